/// Swift concurrency: the lookups as `async` functions, built on the
/// `start` methods. The transfers run on the client's I/O thread; an
/// awaiting task holds no thread of the cooperative pool, and cancelling it
/// cancels the request (it then throws `.canceled`).
///
/// Named `fetch…` because an `async` overload of the blocking names would
/// be chosen over them in every async context, blocking calls included.
extension MembraneClient {
    /// ``integration(_:includeSecrets:)`` without blocking a thread.
    public func fetchIntegration(_ selector: String, includeSecrets: Bool = false) async throws(MembraneError) -> Integration {
        try await awaiting { completion throws(MembraneError) in
            try startIntegration(selector, includeSecrets: includeSecrets, completion: completion)
        }
    }

    /// ``integrationText(_:includeSecrets:)`` without blocking a thread.
    public func fetchIntegrationText(_ selector: String, includeSecrets: Bool = false) async throws(MembraneError) -> [UInt8] {
        try await awaiting { completion throws(MembraneError) in
            try startIntegrationText(selector, includeSecrets: includeSecrets, completion: completion)
        }
    }

    /// ``integrationsPage(query:)`` without blocking a thread.
    public func fetchIntegrationsPage(query: [(name: String, value: String)] = []) async throws(MembraneError) -> IntegrationPage {
        try await awaiting { completion throws(MembraneError) in
            try startIntegrationsPage(query: query, completion: completion)
        }
    }

    /// ``integrations(_:includeSecrets:)`` without blocking a thread. A
    /// cancelled task gets `.canceled` in every place.
    public func fetchIntegrations(_ selectors: [String], includeSecrets: Bool = false) async -> [Result<Integration, MembraneError>] {
        let outcome: Result<[Result<Integration, MembraneError>], MembraneError> = await awaitingResult { completion throws(MembraneError) in
            try startIntegrations(selectors, includeSecrets: includeSecrets) { completion(.success($0)) }
        }
        switch outcome {
        case .success(let results): return results
        case .failure(let error): return selectors.map { _ in .failure(error) }
        }
    }

    /// Starts a request with `start` and suspends until its completion.
    private func awaiting<Value: Sendable>(
        _ start: (@escaping @Sendable (Result<Value, MembraneError>) -> Void) throws(MembraneError) -> UInt64
    ) async throws(MembraneError) -> Value {
        try await awaitingResult(start).get()
    }

    private func awaitingResult<Value: Sendable>(
        _ start: (@escaping @Sendable (Result<Value, MembraneError>) -> Void) throws(MembraneError) -> UInt64
    ) async -> Result<Value, MembraneError> {
        let request = RequestHandle()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, MembraneError>, Never>) in
                do throws(MembraneError) {
                    let id = try start { continuation.resume(returning: $0) }
                    if request.started(id) { _ = cancelRequest(id) }
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        } onCancel: {
            if let id = request.cancelled() { _ = cancelRequest(id) }
        }
    }
}

/// The id of the request a task waits for, and whether the task was
/// cancelled before the id was known (then the request is cancelled as
/// soon as it is).
private final class RequestHandle: Sendable {
    private let state = Locked<(id: UInt64?, cancelled: Bool)>((nil, false))

    /// true when the task was cancelled already.
    func started(_ id: UInt64) -> Bool {
        state.withLock { state in
            state.id = id
            return state.cancelled
        }
    }

    /// The id to cancel, if the request has started.
    func cancelled() -> UInt64? {
        state.withLock { state in
            state.cancelled = true
            return state.id
        }
    }
}
