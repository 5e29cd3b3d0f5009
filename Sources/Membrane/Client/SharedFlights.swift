#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Lookups of the same path in flight at the same moment share one
/// request: the first caller (the leader) sends it, the others (followers,
/// blocking or not) wait for its answer and decode their own copy of it.
///
/// A follower keeps its own deadline and can be cancelled on its own. When
/// the leader's request ends by the leader's own circumstances (cancelled,
/// or out of time), followers still in time send theirs instead.
final class SharedFlights: @unchecked Sendable {
    /// How a shared request ended, and the tokens it sent (a follower's
    /// errors must hide them too).
    struct Landing: Sendable {
        let exchange: Exchange
        let tokens: [String]
        let expiredAt: Int64?
        /// Whether it ended for reasons of the leader's own, which a follower
        /// does not share (it then sends its own request): by default a
        /// cancel or the leader's deadline.
        let isLeadersOwn: Bool

        init(exchange: Exchange, tokens: [String], expiredAt: Int64?, leadersOwn: Bool? = nil) {
            self.exchange = exchange
            self.tokens = tokens
            self.expiredAt = expiredAt
            if let leadersOwn {
                isLeadersOwn = leadersOwn
            } else if case .failure(let error) = exchange.outcome {
                isLeadersOwn = error.code == .canceled || error.code == .timeout
            } else {
                isLeadersOwn = false
            }
        }
    }

    typealias Waiter = @Sendable (Landing) -> Void

    /// The key lookups of `path` share under, with what the cache's stamp
    /// says of invalidations: a lookup started after the token changed, or
    /// after its selector was invalidated, never follows a request sent
    /// before.
    static func key(_ path: String, stamp: ResponseCache.Stamp) -> String {
        "\(stamp.generation).\(stamp.selectorTicket) \(path)"
    }

    private final class Flight {
        var landing: Landing?
        var waiters: [Waiter] = []
        /// Blocking callers waiting for it.
        var blocked = 0
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let landed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var flights: [String: Flight] = [:]

    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        landed.initialize(to: pthread_cond_t())
        pthread_cond_init(landed, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(landed)
        pthread_mutex_destroy(mutex)
        landed.deallocate()
        mutex.deallocate()
    }

    // MARK: Blocking callers

    /// The answer for `key`: sent by `lead` when no request for it is in
    /// flight, otherwise the one in flight's. A follower gives up at its
    /// `deadline` (`.timeout`) or when `cancelled()` says so (`.canceled`:
    /// `wakeAll` makes it look at once).
    func share(_ key: String, deadline: Deadline, cancelled: () -> Bool, lead: () -> Landing) -> Landing {
        while true {
            pthread_mutex_lock(mutex)
            guard let flight = flights[key] else {
                let flight = Flight()
                flights[key] = flight
                pthread_mutex_unlock(mutex)
                let landing = lead()
                land(key, flight, landing)
                return landing
            }
            flight.blocked += 1
            while flight.landing == nil && !cancelled() && !deadline.hasPassed {
                wait(until: deadline)
            }
            flight.blocked -= 1
            let landing = flight.landing
            pthread_mutex_unlock(mutex)
            guard let landing else {
                let error = cancelled() ? MembraneError(code: .canceled, message: "the call was cancelled")
                    : MembraneError(code: .timeout, message: "the request timed out, waiting for the same lookup made by another call")
                return Landing(exchange: Exchange(outcome: .failure(error), attempts: 0), tokens: [], expiredAt: nil)
            }
            if landing.isLeadersOwn && !cancelled() && !deadline.hasPassed { continue }
            return landing
        }
    }

    /// Wakes every blocked follower (a cancel: they check their own).
    func wakeAll() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(landed)
        pthread_mutex_unlock(mutex)
    }

    // MARK: Callers that do not block

    /// Joins the flight for `key` when there is one (`waiter` then receives
    /// its landing, on the thread that lands it): true. Otherwise opens one
    /// that the caller must `land`: false.
    func joinOrLead(_ key: String, waiter: @escaping Waiter) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let flight = flights[key] {
            flight.waiters.append(waiter)
            return true
        }
        flights[key] = Flight()
        return false
    }

    /// Whether anyone waits for the flight for `key` (waiters of callers
    /// that were cancelled since count too: at worst a request runs on to
    /// its end for nobody).
    func hasFollowers(_ key: String) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard let flight = flights[key] else { return false }
        return !flight.waiters.isEmpty || flight.blocked > 0
    }

    /// Ends the flight for `key` the caller leads (opened by `joinOrLead`).
    func land(_ key: String, _ landing: Landing) {
        pthread_mutex_lock(mutex)
        let flight = flights[key]
        pthread_mutex_unlock(mutex)
        if let flight { land(key, flight, landing) }
    }

    private func land(_ key: String, _ flight: Flight, _ landing: Landing) {
        pthread_mutex_lock(mutex)
        flight.landing = landing
        if flights[key] === flight { flights[key] = nil }
        let waiters = flight.waiters
        flight.waiters = []
        pthread_cond_broadcast(landed)
        pthread_mutex_unlock(mutex)
        for waiter in waiters { waiter(landing) }
    }

    /// With the mutex held: until a broadcast, the deadline, or 100 ms (a
    /// cancel from elsewhere is seen within that even without `wakeAll`).
    private func wait(until deadline: Deadline) {
        let milliseconds = min(deadline.remaining, 100)
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        var until = timespec(tv_sec: now.tv_sec, tv_nsec: now.tv_nsec + milliseconds * 1_000_000)
        if until.tv_nsec >= 1_000_000_000 {
            until.tv_sec += 1
            until.tv_nsec -= 1_000_000_000
        }
        _ = pthread_cond_timedwait(landed, mutex, &until)
    }
}
