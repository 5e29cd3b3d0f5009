import Hummingbird

/// Gives Hummingbird's own errors (no route, method not allowed, body too
/// large) the API's error shape, so every answer is the same kind of JSON. An
/// unknown path or method is 404 `not_found` "Cannot METHOD /path", as the
/// API's framework answers it, and needs no token.
struct APIErrorShapeMiddleware: RouterMiddleware {
    typealias Context = MockRequestContext

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let status = Int(error.status.code)
            if status == 404 {
                return APIError.notFound("Cannot \(request.method.rawValue) \(request.uri.path)").response
            }
            let message = (error as? HTTPError)?.body ?? "\(status) \(error.status.reasonPhrase)"
            return APIError.answer(status: status, key: "bad_request", message: message).response
        }
    }
}
