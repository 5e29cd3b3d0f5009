import CCurl

/// One libcurl easy handle, the multi handle it always runs in, and the
/// error buffer it writes into.
///
/// Running each transfer through a multi handle lets the caller's thread wait
/// in `curl_multi_poll`, which another thread can interrupt
/// (`curl_multi_wakeup`) to cancel. Connections stay alive in the multi
/// handle's pool between transfers; the handle pool hands each `CurlHandle`
/// to one thread at a time.
final class CurlHandle: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    let multi: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() throws(MembraneError) {
        guard let easy = curl_easy_init() else {
            throw MembraneError(code: .internal, message: "libcurl could not create a handle")
        }
        guard let multi = curl_multi_init() else {
            curl_easy_cleanup(easy)
            throw MembraneError(code: .internal, message: "libcurl could not create a multi handle")
        }
        self.easy = easy
        self.multi = multi
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_multi_cleanup(multi)
        curl_easy_cleanup(easy)
        errorBuffer.deallocate()
    }

    /// Clears the previous transfer's options, keeping live connections and
    /// caches, and points libcurl's error text at this handle's buffer.
    func reset() {
        curl_easy_reset(easy)
        errorBuffer[0] = 0
        _ = mbcurl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
    }

    /// libcurl's detailed text for the last failure, or "".
    var errorText: String {
        String(cString: errorBuffer).trimmingWhitespace()
    }
}
