/// A batch started without blocking: its lookups, one per distinct
/// selector, and the one completion that runs when the last has ended.
final class PendingBatch: PendingRequests.Entry, @unchecked Sendable {
    private struct State {
        var requests: [PendingRequest] = []
        var results: [Result<Integration, MembraneError>?]
        var remaining: Int
        var delivered = false
    }

    private let plan: BatchPlan
    private let state: Locked<State>
    private let completion: @Sendable ([Result<Integration, MembraneError>]) -> Void

    init(plan: BatchPlan, completion: @escaping @Sendable ([Result<Integration, MembraneError>]) -> Void) {
        self.plan = plan
        self.completion = completion
        state = Locked(State(results: Array(repeating: nil, count: plan.unique.count), remaining: plan.unique.count))
    }

    func add(_ request: PendingRequest) {
        state.withLock { $0.requests.append(request) }
    }

    /// Starts the lookups (a batch with none completes at once).
    func begin() {
        let requests = state.withLock { $0.requests }
        if requests.isEmpty { deliverIfDone() }
        for request in requests { request.begin() }
    }

    /// The lookup at `index` of the plan's distinct selectors has ended.
    func ended(_ index: Int, _ result: Result<Integration, MembraneError>) {
        state.withLock { state in
            guard state.results[index] == nil else { return }
            state.results[index] = result
            state.remaining -= 1
        }
        deliverIfDone()
    }

    /// A batch's requests are its own (never shared): nothing to hand over.
    @discardableResult
    func cancel(handingOver: Bool) -> Bool {
        let requests = state.withLock { $0.delivered ? [] : $0.requests }
        var any = false
        for request in requests where request.cancel(handingOver: false) { any = true }
        return any
    }

    private func deliverIfDone() {
        let results = state.withLock { state -> [Result<Integration, MembraneError>?]? in
            guard state.remaining == 0, !state.delivered else { return nil }
            state.delivered = true
            state.requests.removeAll()
            return state.results
        }
        guard let results else { return }
        completion(plan.results(from: results))
    }
}
