import Hummingbird

/// Entry point for every request: admin calls go to their router; everything else is
/// an API call, which is logged, then answered (or sabotaged by a queued fault).
///
/// API paths are not routed through Hummingbird's router because the selector must be
/// taken from the raw path: `/integrations/a%2Fb` is one selector, `a/b`.
struct MockResponder: HTTPResponder {
    typealias Context = MockRequestContext

    let api: IntegrationsAPI
    let faults: FaultQueue
    let requestLog: RequestLog
    let admin: RouterResponder<MockRequestContext>

    /// Admin calls are never logged, faulted or counted in `ServerStats`' requests.
    static func isAdmin(path: String) -> Bool {
        path == "/_mock" || path.hasPrefix("/_mock/")
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if Self.isAdmin(path: path) {
            return try await admin.respond(to: request, context: context)
        }

        let authorized = api.isAuthorized(request)
        requestLog.record(request, authorized: authorized)
        let route = APIRoute(rawPath: path)
        let normal = api.answer(to: request, route: route, authorized: authorized)

        guard let selector = route.faultSelector, let fault = faults.consume(selector: selector) else {
            context.logger.debug("\(request.method) \(path) -> \(normal.status)")
            return normal.response
        }
        context.logger.debug("\(request.method) \(path) -> fault \(String(decoding: fault.summary.serialized(), as: UTF8.self))")
        return try await FaultPlayer(
            fault: fault,
            closeConnection: context.closeConnection,
            resetConnection: context.resetConnection
        ).response(replacing: normal)
    }
}
