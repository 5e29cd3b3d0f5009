import Hummingbird
import Synchronization

/// Every API request the mock received, in arrival order, so tests can check what
/// the client actually put on the wire (raw path, query, headers).
final class RequestLog: Sendable {
    struct Entry: Sendable {
        let method: String
        /// The path exactly as received, still percent-encoded.
        let path: String
        /// The raw query string, "" when there was none.
        let query: String
        /// Whether the token was accepted (the fixed token, or a JWT that verified).
        let authorized: Bool
        /// The verified JWT's claims; null for the fixed token or a refused one.
        let claims: JSONValue
        /// The selector, decoded once, for `/integrations/{selector}`; nil otherwise.
        let selector: String?
        /// Lower-cased names; repeated headers joined with ", ". Never holds
        /// `authorization`, so the log cannot leak the token.
        let headers: [String: String]

        var json: JSONValue {
            [
                "method": .string(method),
                "path": .string(path),
                "query": .string(query),
                "authorized": .bool(authorized),
                "claims": claims,
                "selector": selector.map(JSONValue.string) ?? .null,
                "headers": .object(headers.mapValues(JSONValue.string)),
            ]
        }
    }

    private let entries = Mutex<[Entry]>([])

    func record(_ request: Request, authorized: Bool, claims: JSONValue, selector: String?) {
        var headers: [String: String] = [:]
        // HTTP/1 `Host` is carried as the :authority pseudo-header by swift-http-types.
        if let authority = request.head.authority { headers["host"] = authority }
        for field in request.headers where field.name != .authorization {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        let entry = Entry(
            method: request.method.rawValue,
            path: request.uri.path,
            query: request.uri.query ?? "",
            authorized: authorized,
            claims: claims,
            selector: selector,
            headers: headers
        )
        entries.withLock { $0.append(entry) }
    }

    func snapshot() -> [Entry] {
        entries.withLock { $0 }
    }

    /// Returns how many entries were dropped.
    func clear() -> Int {
        entries.withLock { entries in
            defer { entries.removeAll() }
            return entries.count
        }
    }
}
