/// Lookups that do not block: each starts a request on the client's I/O
/// thread and returns its id at once; the completion runs once, later, on
/// that thread (or on the thread that cancels the request). The same
/// retries, deadline (from the moment of the call), size limit, tokens and
/// errors as the blocking calls. Completions must not block: hand the
/// result to your own queue or loop. The `fetch` methods build on these.
extension MembraneClient {
    /// Starts ``integration(_:includeSecrets:)``.
    /// - Returns: the request's id, for ``cancelRequest(_:)``.
    /// - Throws: `.invalidArgument` for a bad selector, `.canceled` once
    ///   ``stopRequests()`` ran, `.internal` when no I/O thread can start.
    @discardableResult
    public func startIntegration(_ selector: String, includeSecrets: Bool = false,
                                 completion: @escaping @Sendable (Result<Integration, MembraneError>) -> Void)
        throws(MembraneError) -> UInt64 {
        try Selector.validate(selector)
        let probe = cache.probe(selector, consultingKept: !includeSecrets)
        if let hit = probe.kept.flatMap(Self.ownCopy) { return try completeAtOnce(.success(hit), completion) }
        return try startLookup(selector, includeSecrets, probe.stamp) { completion($0.map(\.integration)) }
    }

    /// Starts ``integrationText(_:includeSecrets:)``.
    @discardableResult
    public func startIntegrationText(_ selector: String, includeSecrets: Bool = false,
                                     completion: @escaping @Sendable (Result<[UInt8], MembraneError>) -> Void)
        throws(MembraneError) -> UInt64 {
        try Selector.validate(selector)
        let probe = cache.probe(selector, consultingKept: !includeSecrets)
        if let body = probe.kept?.body { return try completeAtOnce(.success(body), completion) }
        return try startLookup(selector, includeSecrets, probe.stamp) { completion($0.map(\.body)) }
    }

    /// A cache hit completes at once, on the calling thread, under an id of
    /// its own (nothing to cancel).
    private func completeAtOnce<Value>(_ result: Result<Value, MembraneError>,
                                       _ completion: @Sendable (Result<Value, MembraneError>) -> Void)
        throws(MembraneError) -> UInt64 {
        let id = try pending.reserveID()
        completion(result)
        return id
    }

    /// The single lookup both start methods make after a cache miss: a
    /// request, shared with the same lookup in flight when the client shares
    /// requests; its answer stored under `stamp`.
    private func startLookup(_ selector: String, _ includeSecrets: Bool, _ stamp: ResponseCache.Stamp,
                             completion: @escaping @Sendable (Result<(integration: Integration, body: [UInt8]), MembraneError>) -> Void)
        throws(MembraneError) -> UInt64 {
        let cache = cache
        return try start(integrationPath(selector, includeSecrets), sharedIn: stamp) { exchange, call in
            completion(Result { () throws(MembraneError) -> (integration: Integration, body: [UInt8]) in
                let (integration, response) = try call.finish(exchange, as: Integration.init(json:))
                if !includeSecrets {
                    cache.store(selector, json: integration.json, body: response.body, stamp: stamp)
                }
                return (integration, response.body)
            })
        }
    }

    /// Starts ``integrationsPage(query:)``.
    @discardableResult
    public func startIntegrationsPage(query: [(name: String, value: String)] = [],
                                      completion: @escaping @Sendable (Result<IntegrationPage, MembraneError>) -> Void)
        throws(MembraneError) -> UInt64 {
        try start(pagePath(query), sharedIn: nil) { exchange, call in
            completion(Result { () throws(MembraneError) -> IntegrationPage in
                try call.finish(exchange, as: IntegrationPage.init(json:)).0
            })
        }
    }

    /// Starts ``integrations(_:includeSecrets:)``: one id for the whole
    /// batch; `completion` runs once, when every lookup has ended, with the
    /// results in input order (a cancel ends them all with `.canceled`).
    @discardableResult
    public func startIntegrations(_ selectors: [String], includeSecrets: Bool = false,
                                  completion: @escaping @Sendable ([Result<Integration, MembraneError>]) -> Void)
        throws(MembraneError) -> UInt64 {
        let plan = BatchPlan(selectors)
        let settings = settings.withLock { $0 }
        let (id, batch) = try pending.register { id in
            PendingBatch(plan: plan) { [pending] results in
                pending.forget(id)
                completion(results)
            }
        }
        let call = Call(settings: settings)
        for (index, entry) in plan.unique.enumerated() {
            batch.add(PendingRequest(path: integrationPath(entry.selector, includeSecrets), call: call,
                                     transport: transport, credentials: credentials, ended: {}) { exchange, call in
                batch.ended(index, Result { () throws(MembraneError) -> Integration in
                    try call.finish(exchange, as: Integration.init(json:)).0
                })
            })
        }
        batch.begin()
        return id
    }

    /// Cancels one request started by a `start` method: its completion runs
    /// at once with `.canceled`. false when it had already ended (or the id
    /// is unknown).
    @discardableResult
    public func cancelRequest(_ id: UInt64) -> Bool {
        pending.cancel(id)
    }

    /// Cancels every request started by a `start` method, refuses new ones
    /// (they throw `.canceled`) and stops the I/O thread, waiting for it.
    /// Blocking calls keep working. For a host shutting the client down.
    public func stopRequests() {
        pending.close()
        transport.stopLoop()
    }

    /// Starts a GET of `path`, registered under a new id. With a cache
    /// `stamp` (single lookups), it shares the same lookup in flight started
    /// since the same invalidations, when the client shares requests.
    private func start(_ path: String, sharedIn stamp: ResponseCache.Stamp?, finish: @escaping PendingRequest.Finish) throws(MembraneError) -> UInt64 {
        let call = Call(settings: settings.withLock { $0 })
        var sharing: PendingRequest.Sharing?
        if let stamp, call.settings.sharesRequests {
            sharing = (flights, SharedFlights.key(path, stamp: stamp))
        }
        let (id, request) = try pending.register { id in
            PendingRequest(path: path, call: call, transport: transport, credentials: credentials, sharing: sharing,
                           ended: { [pending] in pending.forget(id) }, finish: finish)
        }
        request.begin()
        return id
    }
}
