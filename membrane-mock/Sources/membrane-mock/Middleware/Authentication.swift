import Hummingbird

/// `Authorization: Bearer <token>`: the scheme is case-insensitive, the token exact.
struct Authentication: Sendable {
    let token: String

    func accepts(_ request: Request) -> Bool {
        guard let header = request.headers[.authorization] else { return false }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return false }
        return parts[1].trimmingSpaces == token
    }
}

/// Answers 401 `not_authenticated` to API requests without the token.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = MockRequestContext

    let authentication: Authentication

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard authentication.accepts(request) else {
            let message = request.headers[.authorization] == nil
                ? "Authorization header is missing" : "Invalid or expired access token"
            return APIError.answer(status: 401, key: "not_authenticated", message: message).response
        }
        return try await next(request, context)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
