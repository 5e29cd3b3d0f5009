import Hummingbird

/// What the stand-in made of a request's `Authorization` header.
enum AuthenticationOutcome: Sendable {
    /// The fixed `--token`.
    case fixedToken
    /// A JWT that verified (see TokenVerifier), with its claims.
    case verified(claims: [String: JSONValue])
    /// Refused; the message says why and never contains the token.
    case rejected(message: String)

    var isAccepted: Bool {
        if case .rejected = self { return false }
        return true
    }

    /// The verified JWT's claims, for the request log; null otherwise.
    var claims: JSONValue {
        if case .verified(let claims) = self { return .object(claims) }
        return .null
    }
}

/// `Authorization: Bearer <token>`: the scheme is case-insensitive. The token is
/// accepted when it equals the fixed `--token` exactly or, with a `verifier`
/// (`--workspace-key`), when it is a JWT that verifies.
struct Authentication: Sendable {
    let token: String
    let verifier: TokenVerifier?

    static let refused = "Invalid or expired access token"

    func authenticate(_ request: Request) -> AuthenticationOutcome {
        guard let header = request.headers[.authorization] else {
            return .rejected(message: "Authorization header is missing")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .rejected(message: verifier == nil ? Self.refused : "Authorization header is not 'Bearer <token>'")
        }
        let presented = parts[1].trimmingSpaces
        if presented == token { return .fixedToken }
        guard let verifier else { return .rejected(message: Self.refused) }
        switch verifier.verify(presented) {
        case .success(let claims): return .verified(claims: claims)
        case .failure(let rejection): return .rejected(message: rejection.message)
        }
    }
}

/// Answers 401 `not_authenticated` to API requests without an accepted token,
/// and 403 `access_denied` to `includeSecrets=true` with a JWT that is not a
/// workspace admin token (`isAdmin: true`). The fixed `--token` may read secrets.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = MockRequestContext

    let authentication: Authentication

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        // The request log middleware has already looked at the token.
        let outcome = context.authentication ?? authentication.authenticate(request)
        switch outcome {
        case .rejected(let message):
            return APIError.answer(status: 401, key: "not_authenticated", message: message).response
        case .verified(let claims):
            if claims["isAdmin"] != .bool(true), QueryParameters(raw: request.uri.query ?? "").flag("includeSecrets") {
                return APIError.answer(status: 403, key: "access_denied",
                                       message: "includeSecrets=true needs a workspace admin token (isAdmin: true)").response
            }
        case .fixedToken:
            break
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
