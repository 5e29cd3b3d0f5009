/// Where an API request goes, worked out from the raw (still percent-encoded) path so
/// that an encoded `/` inside a selector (`a%2Fb`) stays part of the selector.
enum APIRoute: Equatable {
    /// `/integrations`
    case list
    /// `/integrations/{selector}`, selector decoded exactly once.
    case integration(selector: String)
    /// `/integrations/a/b`: more than one segment; never an integration.
    case nested(rest: String)
    /// `/integrations/{segment}` whose escapes are malformed or not UTF-8.
    case malformed(rawSegment: String)
    /// Anything outside `/integrations`.
    case unknown

    private static let prefix = "/integrations"

    init(rawPath: String) {
        guard rawPath.hasPrefix(Self.prefix) else {
            self = .unknown
            return
        }
        let tail = rawPath.dropFirst(Self.prefix.count)
        if tail.isEmpty {
            self = .list
        } else if tail.first != "/" {
            self = .unknown  // e.g. /integrationsX
        } else {
            let rest = tail.dropFirst()
            if rest.contains("/") {
                self = .nested(rest: PercentDecoding.decode(rest) ?? String(rest))
            } else if let selector = PercentDecoding.decode(rest) {
                self = .integration(selector: selector)
            } else {
                self = .malformed(rawSegment: String(rest))
            }
        }
    }

    /// The selector faults are matched against ("" for the list); nil for paths outside
    /// `/integrations`, which faults never touch.
    var faultSelector: String? {
        switch self {
        case .list: ""
        case .integration(let selector): selector
        case .nested(let rest): rest
        case .malformed(let raw): raw
        case .unknown: nil
        }
    }
}
