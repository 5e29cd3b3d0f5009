import Hummingbird

/// Gives Hummingbird's own errors (no route, method not allowed, body too
/// large) the API's error shape, so every answer is the same kind of JSON. An
/// unknown path is 404 `not_found` "Cannot METHOD /path", as the API's
/// framework answers it; a method other than GET and HEAD on an API route is
/// 405 with `Allow: GET, HEAD`, as HTTP asks (the vendor does not say). Neither
/// needs a token.
struct APIErrorShapeMiddleware: RouterMiddleware {
    typealias Context = MockRequestContext

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let status = Int(error.status.code)
            let path = request.uri.path
            if status == 404 && (path == "/integrations" || SelectorSegment(rawPath: path) != nil) {
                var response = APIError.answer(status: 405, key: "method_not_allowed",
                                               message: "Cannot \(request.method.rawValue) \(path)").response
                response.headers[.allow] = "GET, HEAD"
                return response
            }
            if status == 404 {
                return APIError.notFound("Cannot \(request.method.rawValue) \(path)").response
            }
            let message = (error as? HTTPError)?.body ?? "\(status) \(error.status.reasonPhrase)"
            return APIError.answer(status: status, key: "bad_request", message: message).response
        }
    }
}
