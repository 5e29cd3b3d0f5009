import Hummingbird

/// The stand-in for the Membrane API's integration endpoints: answers from the
/// fixtures exactly as the vendor documents them, errors included. Routing,
/// authentication, logging and faults are the router's and its middleware's
/// (see Routing/MockRouter.swift); these handlers only answer.
struct IntegrationsAPI: Sendable {
    let store: FixtureStore

    static let defaultLimit = 20
    static let limitRange = 1...1000
    /// The list's numeric source switches. The vendor documents them but not
    /// what they select, so they are checked (integers) and otherwise ignored.
    static let sourceSwitches = ["connectors", "externalApps", "websearch", "all"]

    /// `GET /integrations/{selector}` and `/integrations/{selector}/**`.
    func integration(_ request: Request) -> Answer {
        let query = QueryParameters(raw: request.uri.query ?? "")
        if let invalid = Self.invalidBoolean(in: query, ["includeSecrets"]) { return invalid }
        switch SelectorSegment(rawPath: request.uri.path) {
        case .selector(let selector):
            guard let integration = store.integration(selector: selector) else {
                return APIError.notFound("Integration with selector '\(selector)' not found")
            }
            return .json(200, .object(reveal(integration, query: query)))
        case .nested(let rest):
            return APIError.notFound("Integration with selector '\(rest)' not found")
        case .malformed(let raw):
            return APIError.answer(status: 400, key: "bad_request", message: "Malformed percent-encoding in selector '\(raw)'")
        case nil:
            return APIError.notFound("Cannot \(request.method.rawValue) \(request.uri.path)")
        }
    }

    /// `GET /integrations`. Pages are offsets into the filtered list; the
    /// cursor is the next offset as a decimal string, present only when more
    /// items follow. The router also sends `/integrations/` here (it ignores
    /// empty path segments): that is a lookup of the empty selector.
    func list(_ request: Request) -> Answer {
        guard request.uri.path == "/integrations" else { return integration(request) }
        let query = QueryParameters(raw: request.uri.query ?? "")
        var limit = Self.defaultLimit
        if let text = query["limit"] {
            guard let value = Int(text), Self.limitRange.contains(value), text.allSatisfy(\.isASCIIDigit) else {
                return APIError.answer(status: 400, key: "invalid_limit", message: "limit must be an integer from 1 to 1000, got '\(text)'")
            }
            limit = value
        }
        for name in Self.sourceSwitches {
            if let text = query[name], !(Double(text)?.isFinite ?? false) {
                return APIError.answer(status: 400, key: "bad_request", message: "\(name) must be a number, got '\(text)'")
            }
        }
        if let invalid = Self.invalidBoolean(in: query, ["includeArchived", "includeSecrets"]) { return invalid }
        let matches = store.list(FixtureStore.ListFilter(
            search: query["search"], connectorId: query["connectorId"], appUuid: query["appUuid"],
            includeArchived: query.flag("includeArchived")))
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

    /// The documented booleans take `true` or `false` only.
    private static func invalidBoolean(in query: QueryParameters, _ names: [String]) -> Answer? {
        for name in names {
            if let text = query[name], text != "true", text != "false" {
                return APIError.answer(status: 400, key: "bad_request", message: "\(name) must be true or false, got '\(text)'")
            }
        }
        return nil
    }

    private func reveal(_ integration: [String: JSONValue], query: QueryParameters) -> [String: JSONValue] {
        query.flag("includeSecrets") ? integration : SecretMasking.masked(integration)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
