/// A client of the Membrane API.
///
/// ```swift
/// let client = try MembraneClient(apiURL: "https://api.getmembrane.com", token: token)
/// let hubspot = try client.integration("hubspot")
/// print(hubspot.name, hubspot.state ?? .unknown("none"))
/// ```
///
/// One client may serve many threads at once; it keeps connections alive and
/// reuses them across calls. Settings changed while a call runs apply from the
/// next call on.
public final class MembraneClient: Sendable {
    let transport: Transport
    let settings: Locked<ClientSettings>
    let credentials: Credentials
    /// Requests started without blocking, not yet ended.
    let pending = PendingRequests()
    /// Single lookups in flight, shared by callers asking the same at once.
    let flights = SharedFlights()
    /// Answers kept for `setCacheTTL` (off by default).
    let cache = ResponseCache()

    /// - Parameters:
    ///   - apiURL: the API's base URL; `nil` reads `MEMBRANE_API_URL`, then
    ///     falls back to `https://api.getmembrane.com`.
    ///   - token: the API token; `nil` reads `MEMBRANE_TOKEN`, and without it
    ///     signs its own tokens with `MEMBRANE_WORKSPACE_KEY` and
    ///     `MEMBRANE_WORKSPACE_SECRET` (for `MEMBRANE_TENANT_KEY`, or an admin
    ///     token without one).
    /// - Throws: `.invalidArgument` for a malformed URL or token,
    ///   `.notAuthenticated` when there is no token at all.
    public init(apiURL: String? = nil, token: String? = nil) throws(MembraneError) {
        let url = try APIURL(apiURL ?? Environment.value(Environment.apiURLVariable) ?? APIURL.default)
        credentials = Credentials(try Environment.tokenSource(token: token))
        transport = try Transport()
        settings = Locked(ClientSettings(apiURL: url))
    }

    /// The base URL requests go to, without a trailing slash.
    public var apiURL: String { settings.withLock { $0.apiURL.string } }

    /// The longest one call may take, in milliseconds (default 30,000).
    public func setTimeout(milliseconds: Int) throws(MembraneError) {
        guard milliseconds >= 1 else { throw .invalidArgument("the timeout must be at least 1 ms") }
        settings.withLock { $0.timeoutMilliseconds = milliseconds }
    }

    /// The longest connecting may take, in milliseconds (default 10,000).
    public func setConnectTimeout(milliseconds: Int) throws(MembraneError) {
        guard milliseconds >= 1 else { throw .invalidArgument("the connect timeout must be at least 1 ms") }
        settings.withLock { $0.connectTimeoutMilliseconds = milliseconds }
    }

    /// The User-Agent header (default `libmembrane/<version>`).
    public func setUserAgent(_ userAgent: String) throws(MembraneError) {
        guard !userAgent.isEmpty, userAgent.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
            throw .invalidArgument("the user agent must be non-empty, without control characters")
        }
        settings.withLock { $0.userAgent = userAgent }
    }

    /// How many times a lookup is retried (0 to 10, default 2).
    public func setMaximumRetries(_ count: Int) throws(MembraneError) {
        guard (0...RetryPolicy.maximumRetriesLimit).contains(count) else {
            throw .invalidArgument("the retry count must be 0 to \(RetryPolicy.maximumRetriesLimit)")
        }
        settings.withLock { $0.retryPolicy.maximumRetries = count }
    }

    /// The base of the exponential backoff between retries, in milliseconds (default 250).
    public func setRetryBase(milliseconds: Int) throws(MembraneError) {
        guard milliseconds >= 1 else { throw .invalidArgument("the retry base must be at least 1 ms") }
        settings.withLock { $0.retryPolicy.baseMilliseconds = milliseconds }
    }

    /// How many requests a batch runs at once, 1 to 256 (default 8).
    public func setMaximumParallel(_ count: Int) throws(MembraneError) {
        guard (1...256).contains(count) else { throw .invalidArgument("the parallelism must be 1 to 256") }
        settings.withLock { $0.maximumParallel = count }
    }

    /// How many pages ``allIntegrations(query:)`` reads at most (default 1000).
    public func setMaximumPages(_ count: Int) throws(MembraneError) {
        guard count >= 1 else { throw .invalidArgument("the page cap must be at least 1") }
        settings.withLock { $0.maximumPages = count }
    }

    /// The largest response body accepted, in bytes (default 32 MiB).
    public func setMaximumResponseBytes(_ bytes: Int) throws(MembraneError) {
        guard bytes >= 1 else { throw .invalidArgument("the response limit must be at least 1 byte") }
        settings.withLock { $0.maximumResponseBytes = bytes }
    }

    /// Where log lines go: one per request attempt (method, path, status or
    /// failure, attempt, milliseconds) and one per retry. `nil` (the default)
    /// turns logging off. Lines never hold the token.
    public func setLogHandler(_ handler: LogHandler?) {
        var sanitizing: LogHandler?
        if let handler {
            // The same hygiene as errors: no token, no control characters.
            let credentials = credentials
            sanitizing = { level, line in handler(level, Redaction.clean(line, hiding: credentials.currentTokenValue)) }
        }
        settings.withLock { $0.log = sanitizing }
    }

    /// A PEM bundle of CA certificates to trust instead of the system's;
    /// `nil` goes back to the system's. Verification is never turned off.
    public func setCAFile(_ path: String?) throws(MembraneError) {
        if let path, path.isEmpty || path.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw .invalidArgument("the CA file path must be non-empty, without control characters")
        }
        settings.withLock { $0.caFile = path }
    }

    /// Looks up one integration by id, uuid or key (`GET /integrations/{selector}`).
    ///
    /// Callers asking for the same selector (and `includeSecrets`) at the
    /// same moment share one request (see ``setSharesRequests(_:)``); with
    /// ``setCacheTTL(milliseconds:)``, answers are kept for that long.
    ///
    /// - Parameters:
    ///   - selector: 1 to 1024 bytes; sent percent-encoded as one path segment.
    ///   - includeSecrets: ask the API for secret parameter values.
    /// - Throws: ``MembraneError``; its message never holds the token.
    public func integration(_ selector: String, includeSecrets: Bool = false) throws(MembraneError) -> Integration {
        try Selector.validate(selector)
        let probe = cache.probe(selector, consultingKept: !includeSecrets)
        if let hit = probe.kept.flatMap(Self.ownCopy) { return hit }
        return try lookup(selector, includeSecrets, probe.stamp).integration
    }

    /// Looks up one integration and returns its body as the API sent it
    /// (after content decoding): UTF-8 JSON text that passed the same checks
    /// as ``integration(_:includeSecrets:)``, not serialised again. For hosts
    /// that parse JSON themselves.
    public func integrationText(_ selector: String, includeSecrets: Bool = false) throws(MembraneError) -> [UInt8] {
        try Selector.validate(selector)
        let probe = cache.probe(selector, consultingKept: !includeSecrets)
        if let body = probe.kept?.body { return body }
        return try lookup(selector, includeSecrets, probe.stamp).body
    }

    /// A cache hit for ``integration(_:includeSecrets:)``: a copy of the
    /// kept tree, the caller's own (nil if the copy cannot be allocated).
    static func ownCopy(_ kept: (json: JSONValue, body: [UInt8])) -> Integration? {
        guard let copy = copyParsedTree(kept.json.pointer) else { return nil }
        let tree = JSONValue(owning: copy)
        return Integration(validated: JSONObjectView(owner: tree, pointer: tree.pointer))
    }

    /// One blocking single lookup that missed the cache: a request in
    /// flight, or a request of its own; its answer stored under `stamp`.
    private func lookup(_ selector: String, _ includeSecrets: Bool,
                        _ stamp: ResponseCache.Stamp) throws(MembraneError) -> (integration: Integration, body: [UInt8]) {
        let path = integrationPath(selector, includeSecrets)
        var call = Call(settings: settings.withLock { $0 })
        let exchange: Exchange
        if call.settings.sharesRequests {
            let ticket = transport.cancellation.ticket()
            let leaderCall = call
            let landing = flights.share(SharedFlights.key(path, stamp: stamp), deadline: call.deadline,
                                        cancelled: { transport.cancellation.isCancelled(ticket) }) {
                var own = leaderCall
                let exchange = perform([path], in: &own)[0]
                return SharedFlights.Landing(exchange: exchange, tokens: own.tokens, expiredAt: own.expiredAt)
            }
            call.tokens += landing.tokens
            call.expiredAt = landing.expiredAt
            exchange = landing.exchange
        } else {
            exchange = perform([path], in: &call)[0]
        }
        let (integration, response) = try call.finish(exchange, as: Integration.init(json:))
        if !includeSecrets { cache.store(selector, json: integration.json, body: response.body, stamp: stamp) }
        return (integration, response.body)
    }

    func integrationPath(_ selector: String, _ includeSecrets: Bool) -> String {
        "/integrations/\(Selector.pathSegment(selector))?includeSecrets=\(includeSecrets)"
    }

    /// One GET of `path`, its answer made into a model: the path every
    /// single request takes (lookups and pages alike).
    func get<Model>(_ path: String, as build: (JSONValue) throws(MembraneError) -> Model) throws(MembraneError) -> Model {
        let (exchange, call) = perform(path)
        return try call.finish(exchange, as: build).0
    }

    /// One GET of `path` with the settings of this moment, unfinished: the
    /// caller ends it through `call.finish`.
    func perform(_ path: String) -> (Exchange, Call) {
        var call = Call(settings: settings.withLock { $0 })
        return (perform([path], in: &call)[0], call)
    }

    /// GETs of `paths` (at most the client's parallelism at once), with the
    /// client's token. Requests the server refuses with 401 get one new token
    /// and one more attempt, never more (not with a fixed token).
    func perform(_ paths: [String], in call: inout Call) -> [Exchange] {
        let settings = call.settings
        let first: IssuedToken
        do throws(MembraneError) {
            first = try credentials.issued(before: call.deadline)
        } catch {
            return paths.map { _ in Exchange(outcome: .failure(error), attempts: 0) }
        }
        call.tokens.append(first.token.value)
        var exchanges = transport.perform(paths.map { settings.request(for: $0, token: first, deadline: call.deadline) },
                                          parallel: settings.maximumParallel, policy: settings.retryPolicy)
        let refused = exchanges.indices.filter { exchanges[$0].isUnauthorized }
        guard !refused.isEmpty else { return exchanges }
        guard credentials.rejected(first) else {
            // A fixed token: say so when it has simply expired.
            if let expiry = first.expiresAt, expiry <= Credentials.epochSeconds() { call.expiredAt = expiry }
            return exchanges
        }
        let second: IssuedToken
        do throws(MembraneError) {
            second = try credentials.issued(before: call.deadline)
        } catch {
            for index in refused {
                exchanges[index] = Exchange(outcome: .failure(error), attempts: exchanges[index].attempts)
            }
            return exchanges
        }
        call.tokens.append(second.token.value)
        let retried = transport.perform(refused.map { settings.request(for: paths[$0], token: second, deadline: call.deadline) },
                                        parallel: settings.maximumParallel, policy: settings.retryPolicy)
        for (index, exchange) in zip(refused, retried) {
            exchanges[index] = Exchange(outcome: exchange.outcome, attempts: exchanges[index].attempts + exchange.attempts)
        }
        return exchanges
    }

    /// Makes every call in flight on this client throw `.canceled` promptly,
    /// from any thread, and ends every request started without blocking
    /// with `.canceled`. Calls started afterwards run normally.
    public func cancel() {
        transport.cancellation.cancelAll()
        flights.wakeAll()
        pending.cancelAll()
    }

    /// Whether single lookups of the same selector and flags made at the same
    /// moment share one request (default true). Each caller still gets its
    /// own result and error. Batches and pages never share.
    public func setSharesRequests(_ shares: Bool) {
        settings.withLock { $0.sharesRequests = shares }
    }

    /// Keeps successful lookups (without secrets) for `milliseconds`, up to
    /// 86,400,000; 0 (the default) turns the cache off and empties it.
    /// Every hit is a new copy. Errors are never kept.
    public func setCacheTTL(milliseconds: Int) throws(MembraneError) {
        try cache.setTTL(milliseconds: milliseconds)
    }

    /// The most answers the cache keeps, 1 to 1,000,000 (default 1024); the
    /// least recently used go first.
    public func setCacheMaximumEntries(_ count: Int) throws(MembraneError) {
        try cache.setMaximumEntries(count)
    }

    /// Drops the kept answer for `selector`, or every answer when nil.
    public func invalidate(_ selector: String?) {
        cache.invalidate(selector)
    }
}
