/// What follows `/integrations/` in the raw (still percent-encoded) path.
///
/// The router picks the route; the selector is read here, from the raw path,
/// so that an encoded `/` (`a%2Fb`) stays inside the selector, and it is
/// decoded exactly once (`%252F` stays `%2F`).
enum SelectorSegment: Equatable {
    /// One segment, decoded.
    case selector(String)
    /// More than one segment (`/integrations/a/b`): never an integration.
    case nested(String)
    /// A segment whose escapes are malformed or not UTF-8.
    case malformed(raw: String)

    static let prefix = "/integrations/"

    /// nil when `rawPath` is not below `/integrations/`.
    init?(rawPath: String) {
        guard rawPath.hasPrefix(Self.prefix) else { return nil }
        let rest = rawPath.dropFirst(Self.prefix.count)
        if rest.contains("/") {
            self = .nested(PercentDecoding.decode(rest) ?? String(rest))
        } else if let selector = PercentDecoding.decode(rest) {
            self = .selector(selector)
        } else {
            self = .malformed(raw: String(rest))
        }
    }

    /// The text faults match against and error messages quote.
    var text: String {
        switch self {
        case .selector(let text), .nested(let text): text
        case .malformed(let raw): raw
        }
    }

    /// The decoded selector, when the path names one.
    var selector: String? {
        if case .selector(let text) = self { text } else { nil }
    }
}

/// The admin API's paths, which are never logged, faulted or counted as requests.
enum AdminPath {
    static func contains(_ path: String) -> Bool {
        path == "/_mock" || path.hasPrefix("/_mock/")
    }
}
