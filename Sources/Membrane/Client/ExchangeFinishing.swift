#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One call as it runs: the settings of the moment it started, its deadline,
/// and the tokens it sent.
///
/// It is also the one funnel between the transport and a caller: single
/// lookups, text lookups, pages and batches all finish their exchanges here,
/// so every error a caller sees has had the same treatment, once: the HTTP
/// status it came with attached, the attempts noted, every token the call
/// sent removed.
struct Call: Sendable {
    let settings: ClientSettings
    let deadline: Deadline
    /// Every token this call sent (a 401 brings one more).
    var tokens: [String] = []
    /// Set when the server refused a fixed token whose `exp` has passed.
    var expiredAt: Int64?

    init(settings: ClientSettings) {
        self.settings = settings
        deadline = Deadline(after: settings.timeoutMilliseconds)
    }

    /// The model `build` makes of the exchange's answer, and the answer itself
    /// (the text path hands its body out), or the finished error.
    func finish<Model>(_ exchange: Exchange,
                       as build: (JSONValue) throws(MembraneError) -> Model) throws(MembraneError) -> (Model, HTTPResponse) {
        do throws(MembraneError) {
            let response = try exchange.outcome.get()
            return (try ResponseDecoding.decode(response, as: build), response)
        } catch {
            throw finished(error, attempts: exchange.attempts)
        }
    }

    /// An error the client raises itself about what it received (a cursor
    /// seen twice, say), finished like the others: it may quote the server.
    func finished(_ error: MembraneError, attempts: Int = 1) -> MembraneError {
        var error = error.noting(attempts: attempts)
        if error.code == .notAuthenticated, let expiredAt {
            error.message += " (the token expired at \(Self.isoTime(expiredAt)))"
        }
        // At least one pass: it also turns control characters into spaces.
        for token in tokens.isEmpty ? [""] : tokens {
            error = error.sanitized(hiding: token)
        }
        return error
    }

    /// `seconds` since the epoch as 2026-12-04T10:00:00Z.
    static func isoTime(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
