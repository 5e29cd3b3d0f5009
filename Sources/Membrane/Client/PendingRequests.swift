/// A client's requests started without blocking and not yet ended, by id:
/// what a cancel by id, a cancel of all, and closing reach.
final class PendingRequests: Sendable {
    /// What a request id stands for: one GET, or a batch of them.
    protocol Entry: AnyObject, Sendable {
        /// Ends it with `.canceled`; false when it had already ended.
        /// `handingOver`: only this caller gave up (a cancel by id), so a
        /// request other callers share runs on for them.
        @discardableResult func cancel(handingOver: Bool) -> Bool
    }

    private struct State {
        var nextID: UInt64 = 1
        var live: [UInt64: any Entry] = [:]
        var closed = false
    }

    private let state = Locked(State())

    /// Registers the entry `make` builds for a new id (before it starts, so a
    /// cancel can reach it at once). Fails once the client is closing.
    func register<Request: Entry>(_ make: (UInt64) -> Request) throws(MembraneError) -> (UInt64, Request) {
        try state.withLock { (state: inout State) throws(MembraneError) -> (UInt64, Request) in
            guard !state.closed else { throw MembraneError(code: .canceled, message: "the client is closing") }
            let id = state.nextID
            state.nextID += 1
            let entry = make(id)
            state.live[id] = entry
            return (id, entry)
        }
    }

    /// A new id for a request that ends at once (a cache hit): nothing to
    /// cancel. Fails once the client is closing.
    func reserveID() throws(MembraneError) -> UInt64 {
        try state.withLock { (state: inout State) throws(MembraneError) -> UInt64 in
            guard !state.closed else { throw MembraneError(code: .canceled, message: "the client is closing") }
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    func forget(_ id: UInt64) {
        _ = state.withLock { $0.live.removeValue(forKey: id) }
    }

    /// false when no unfinished request has that id.
    func cancel(_ id: UInt64) -> Bool {
        guard let entry = state.withLock({ $0.live[id] }) else { return false }
        return entry.cancel(handingOver: true)
    }

    func cancelAll() {
        for entry in state.withLock({ Array($0.live.values) }) { entry.cancel(handingOver: false) }
    }

    /// Refuses new requests from now on, and cancels the live ones.
    func close() {
        let entries = state.withLock { state -> [any Entry] in
            state.closed = true
            return Array(state.live.values)
        }
        for entry in entries { entry.cancel(handingOver: false) }
    }
}

extension PendingRequest: PendingRequests.Entry {}
