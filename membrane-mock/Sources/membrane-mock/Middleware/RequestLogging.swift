import Hummingbird

/// Records every API request (unknown paths, unauthorized and faulted ones
/// too) in the request log before anything else happens to it.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = MockRequestContext

    let log: RequestLog
    let authentication: Authentication

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        if !AdminPath.contains(request.uri.path) {
            log.record(request, authorized: authentication.accepts(request),
                       selector: SelectorSegment(rawPath: request.uri.path)?.selector)
        }
        return try await next(request, context)
    }
}
