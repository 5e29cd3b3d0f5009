import Hummingbird

/// Records every API request (unknown paths, unauthorized and faulted ones
/// too) in the request log before anything else happens to it.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = MockRequestContext

    let log: RequestLog
    let authentication: Authentication

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !AdminPath.contains(request.uri.path) else { return try await next(request, context) }
        // Checked once here; the authentication middleware reuses the outcome.
        let outcome = authentication.authenticate(request)
        log.record(request, authorized: outcome.isAccepted, claims: outcome.claims,
                   selector: SelectorSegment(rawPath: request.uri.path)?.selector)
        var context = context
        context.authentication = outcome
        return try await next(request, context)
    }
}
