import Synchronization

/// Connection and concurrency counters for `GET /_mock/stats`, so a test can show that a
/// client never had more than N connections or requests open at once.
///
/// Connections are counted by `ConnectionCounter` on each accepted channel, requests by
/// the responder wrapper in `CountingHTTP1Channel` (see ConnectionCounting.swift). All
/// five numbers live behind one lock, so a maximum is always updated together with the
/// current value it is the maximum of.
final class ServerStats: Sendable {
    struct Counters: Sendable, Equatable {
        /// TCP connections accepted since start or the last reset.
        var connectionsOpened = 0
        /// Connections accepted and not yet closed.
        var connectionsOpen = 0
        /// The highest `connectionsOpen` since start or the last reset.
        var maxConnectionsOpen = 0
        /// API (non-admin) requests whose response is not yet fully written.
        var requestsInFlight = 0
        /// The highest `requestsInFlight` since start or the last reset.
        var maxRequestsInFlight = 0

        var json: JSONValue {
            [
                "connectionsOpened": .int(Int64(connectionsOpened)),
                "connectionsOpen": .int(Int64(connectionsOpen)),
                "maxConnectionsOpen": .int(Int64(maxConnectionsOpen)),
                "requestsInFlight": .int(Int64(requestsInFlight)),
                "maxRequestsInFlight": .int(Int64(maxRequestsInFlight)),
            ]
        }
    }

    private let counters = Mutex(Counters())

    func connectionOpened() {
        counters.withLock { counters in
            counters.connectionsOpened += 1
            counters.connectionsOpen += 1
            counters.maxConnectionsOpen = max(counters.maxConnectionsOpen, counters.connectionsOpen)
        }
    }

    func connectionClosed() {
        counters.withLock { $0.connectionsOpen -= 1 }
    }

    func requestStarted() {
        counters.withLock { counters in
            counters.requestsInFlight += 1
            counters.maxRequestsInFlight = max(counters.maxRequestsInFlight, counters.requestsInFlight)
        }
    }

    func requestFinished() {
        counters.withLock { $0.requestsInFlight -= 1 }
    }

    func snapshot() -> Counters {
        counters.withLock { $0 }
    }

    /// Starts a new measurement: totals go to 0 and maxima to the current values (what
    /// is open right now stays counted). Returns the counters as they were just before.
    func reset() -> Counters {
        counters.withLock { counters in
            let previous = counters
            counters.connectionsOpened = 0
            counters.maxConnectionsOpen = counters.connectionsOpen
            counters.maxRequestsInFlight = counters.requestsInFlight
            return previous
        }
    }
}
