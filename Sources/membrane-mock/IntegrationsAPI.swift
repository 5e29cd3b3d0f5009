import Hummingbird

/// The stand-in for the Membrane API's integration endpoints: answers from the
/// fixtures exactly as the vendor documents them, errors included.
struct IntegrationsAPI: Sendable {
    let store: FixtureStore
    let token: String

    static let defaultLimit = 20
    static let limitRange = 1...1000

    /// `Authorization: Bearer <token>`; the scheme is case-insensitive, the token exact.
    func isAuthorized(_ request: Request) -> Bool {
        guard let header = request.headers[.authorization] else { return false }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return false }
        return parts[1].trimmingSpaces == token
    }

    /// The answer the real API would give, before any fault.
    func answer(to request: Request, route: APIRoute, authorized: Bool) -> Answer {
        if route == .unknown || request.method != .get {
            return APIError.notFound("Cannot \(request.method.rawValue) \(request.uri.path)")
        }
        guard authorized else {
            let message = request.headers[.authorization] == nil
                ? "Authorization header is missing" : "Invalid or expired access token"
            return APIError.answer(status: 401, key: "not_authenticated", message: message)
        }
        let query = QueryParameters(raw: request.uri.query ?? "")
        switch route {
        case .list:
            return list(query: query)
        case .integration(let selector):
            return integration(selector: selector, query: query)
        case .nested(let rest):
            return APIError.notFound("Integration with selector '\(rest)' not found")
        case .malformed(let raw):
            return APIError.answer(status: 400, key: "bad_request", message: "Malformed percent-encoding in selector '\(raw)'")
        case .unknown:
            return APIError.notFound("Cannot \(request.method.rawValue) \(request.uri.path)")
        }
    }

    private func integration(selector: String, query: QueryParameters) -> Answer {
        guard let integration = store.integration(selector: selector) else {
            return APIError.notFound("Integration with selector '\(selector)' not found")
        }
        return .json(200, .object(reveal(integration, query: query)))
    }

    /// Pages are offsets into the filtered list; the cursor is the next offset as a
    /// decimal string, present only when more items follow.
    private func list(query: QueryParameters) -> Answer {
        var limit = Self.defaultLimit
        if let text = query["limit"] {
            guard let value = Int(text), Self.limitRange.contains(value), text.allSatisfy(\.isASCIIDigit) else {
                return APIError.answer(status: 400, key: "invalid_limit", message: "limit must be an integer from 1 to 1000, got '\(text)'")
            }
            limit = value
        }
        let matches = store.list(search: query["search"], includeArchived: query.flag("includeArchived"))
        var offset = 0
        if let cursor = query["cursor"] {
            guard cursor.allSatisfy(\.isASCIIDigit), let value = Int(cursor), value <= matches.count else {
                return APIError.answer(status: 400, key: "invalid_cursor", message: "Invalid cursor '\(cursor)'")
            }
            offset = value
        }
        let end = min(offset + limit, matches.count)
        var page: [String: JSONValue] = [
            "items": .array(matches[offset..<end].map { .object(reveal($0, query: query)) })
        ]
        if end < matches.count { page["cursor"] = .string(String(end)) }
        return .json(200, .object(page))
    }

    private func reveal(_ integration: [String: JSONValue], query: QueryParameters) -> [String: JSONValue] {
        query.flag("includeSecrets") ? integration : SecretMasking.masked(integration)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
