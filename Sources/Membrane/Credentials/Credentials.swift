#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A client's token: where it comes from, the one it holds now, and its
/// renewal.
///
/// Renewal is single-flight: at most one provider call (or signing) at a
/// time per client. Threads that need a token meanwhile wait for that call,
/// each within its own deadline, and share its result, success or failure. A
/// provider runs on a thread of its own, so that one that blocks holds up no
/// caller past its deadline (and is never called twice at once).
final class Credentials: @unchecked Sendable {
    static let defaultLifetimeSeconds: Int64 = 7200
    static let lifetimeRange: ClosedRange<Int64> = 1...(7 * 24 * 3600)

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var source: TokenSource
    /// Bumped whenever the source changes: a renewal started for an old
    /// source must not install its token.
    private var sourceVersion = 0
    private var current: IssuedToken?
    private var serial = 0
    private var renewing = false
    /// Renewals finished, and how the last one ended: waiters share it.
    private var renewalsFinished = 0
    private var lastRenewalError: MembraneError?
    private var lifetime = Credentials.defaultLifetimeSeconds
    /// Requests started without blocking that wait for the renewal under way.
    private var waiters: [Waiter] = []

    typealias Waiter = @Sendable (Result<IssuedToken, MembraneError>) -> Void

    init(_ source: TokenSource) {
        self.source = source
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        if case .fixed(let token) = source {
            current = IssuedToken(token, serial: 0, nowMilliseconds: Self.epochMilliseconds())
        }
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    private func locked<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    // MARK: Configuration

    /// Replaces the source. Calls in flight keep the token they started with.
    func replace(with newSource: TokenSource) {
        locked {
            source = newSource
            sourceVersion += 1
            serial += 1
            if case .fixed(let token) = newSource {
                current = IssuedToken(token, serial: serial, nowMilliseconds: Self.epochMilliseconds())
            } else {
                current = nil
            }
            pthread_cond_broadcast(condition)
        }
    }

    func setLifetime(seconds: Int64) throws(MembraneError) {
        guard Self.lifetimeRange.contains(seconds) else {
            throw .invalidArgument("the token lifetime must be \(Self.lifetimeRange.lowerBound) to \(Self.lifetimeRange.upperBound) s")
        }
        locked { lifetime = seconds }
    }

    /// The token held now ("" when none), for hiding it from log lines.
    var currentTokenValue: String {
        locked { current?.token.value ?? "" }
    }

    // MARK: Tokens for calls

    /// The token a call should send now, renewed first when it is about to
    /// expire; waits for a renewal under way, until `deadline`.
    func issued(before deadline: Deadline) throws(MembraneError) -> IssuedToken {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let finishedBefore = renewalsFinished
        while true {
            if case .fixed = source, let current {
                return current   // never renewed, whatever its exp says: the server judges it
            }
            if let current, !current.needsRenewal(nowMilliseconds: Self.epochMilliseconds()) {
                return current
            }
            if renewalsFinished != finishedBefore {
                // A renewal ended while this call waited: share its outcome,
                // even a short-lived token (asking again at once would loop).
                if let error = lastRenewalError { throw error }
                if let current { return current }
            }
            if !renewing {
                startRenewal()
                continue
            }
            guard wait(until: deadline) else {
                throw MembraneError(code: .timeout, message: "no token within the call's deadline (the token provider has not answered)")
            }
        }
    }

    /// The token a request started without blocking should send: `then`
    /// receives it at once, on the calling thread, when none has to be
    /// asked for; otherwise when the renewal ends, on the thread that ends
    /// it (the provider's). Never blocks. The caller bounds the wait.
    func issue(then: @escaping Waiter) {
        pthread_mutex_lock(mutex)
        var outcome: Result<IssuedToken, MembraneError>?
        var started = false
        while outcome == nil {
            if case .fixed = source, let current {
                outcome = .success(current)
            } else if let current, !current.needsRenewal(nowMilliseconds: Self.epochMilliseconds()) {
                outcome = .success(current)
            } else if started, !renewing {
                // Renewed inline (a signer) just now: share how it ended.
                outcome = lastRenewalError.map { .failure($0) } ?? current.map { .success($0) }
                    ?? .failure(MembraneError(code: .notAuthenticated, message: "no token"))
            } else if renewing {
                waiters.append(then)
                break
            } else {
                started = true
                startRenewal()
            }
        }
        let ready = takeWaitersIfIdle()
        pthread_mutex_unlock(mutex)
        if let outcome { then(outcome) }
        deliver(ready)
    }

    /// After the server refused `issued` with a 401: whether the call may
    /// try once more, with a new token (never for a fixed token).
    func rejected(_ issued: IssuedToken) -> Bool {
        locked {
            if case .fixed = source { return false }
            if current?.serial == issued.serial { current = nil }
            return true
        }
    }

    /// With the mutex held: starts a renewal (inline for a signer, which is
    /// quick and local; on a thread of its own for a provider).
    private func startRenewal() {
        renewing = true
        let version = sourceVersion
        switch source {
        case .fixed(let token):
            finishRenewal(.success(token.value), version: version)
        case .signer(let signer):
            let now = Self.epochMilliseconds()
            do throws(MembraneError) {
                finishRenewal(.success(try signer.sign(nowMilliseconds: now, lifetime: lifetime)), version: version)
            } catch {
                finishRenewal(.failure(error), version: version)
            }
        case .provider(let provider):
            let started = ProviderThread.start { [self] in
                let result = provider()
                pthread_mutex_lock(mutex)
                finishRenewal(result, version: version)
                let ready = takeWaitersIfIdle()
                pthread_mutex_unlock(mutex)
                deliver(ready)
            }
            if !started {
                finishRenewal(.failure(MembraneError(code: .internal, message: "could not start a thread for the token provider")),
                              version: version)
            }
        }
    }

    /// With the mutex held.
    private func finishRenewal(_ result: Result<String, MembraneError>, version: Int) {
        renewing = false
        renewalsFinished += 1
        lastRenewalError = nil
        switch result {
        case .success(let text):
            do throws(MembraneError) {
                let token = try Token(provided: text)
                if version == sourceVersion {
                    serial += 1
                    current = IssuedToken(token, serial: serial, nowMilliseconds: Self.epochMilliseconds())
                }
            } catch {
                lastRenewalError = error
            }
        case .failure(let error):
            lastRenewalError = error
        }
        pthread_cond_broadcast(condition)
    }

    /// With the mutex held: when no renewal runs, the waiting requests and
    /// what the last renewal gave them (they share it, as blocking calls do).
    private func takeWaitersIfIdle() -> (waiters: [Waiter], outcome: Result<IssuedToken, MembraneError>)? {
        guard !renewing, !waiters.isEmpty else { return nil }
        defer { waiters.removeAll() }
        let outcome: Result<IssuedToken, MembraneError> = lastRenewalError.map { .failure($0) }
            ?? current.map { .success($0) }
            ?? .failure(MembraneError(code: .notAuthenticated, message: "the token source changed while a token was renewed"))
        return (waiters, outcome)
    }

    /// Outside the mutex.
    private func deliver(_ ready: (waiters: [Waiter], outcome: Result<IssuedToken, MembraneError>)?) {
        guard let ready else { return }
        for waiter in ready.waiters { waiter(ready.outcome) }
    }

    /// With the mutex held: waits for a broadcast or the deadline; false when
    /// the deadline has passed.
    private func wait(until deadline: Deadline) -> Bool {
        let remaining = deadline.remaining
        guard remaining > 0 else { return false }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        var until = timespec(tv_sec: now.tv_sec + remaining / 1000,
                             tv_nsec: now.tv_nsec + (remaining % 1000) * 1_000_000)
        if until.tv_nsec >= 1_000_000_000 {
            until.tv_sec += 1
            until.tv_nsec -= 1_000_000_000
        }
        _ = pthread_cond_timedwait(condition, mutex, &until)
        return true
    }

    static func epochSeconds() -> Int64 {
        epochMilliseconds() / 1000
    }

    static func epochMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

extension Token {
    /// A token from a provider or a signer: the same checks as a fixed one,
    /// failing as not authenticated, and never quoting it.
    init(provided text: String) throws(MembraneError) {
        do throws(MembraneError) {
            try self.init(text)
        } catch {
            throw MembraneError(code: .notAuthenticated,
                                message: "the token provider returned no usable token (empty, too long or with control characters)")
        }
    }
}
