/// How an integration authenticates. Unknown values are kept as `.unknown`.
public enum AuthType: Hashable, Sendable, RawRepresentable {
    /// The legacy name of ``membraneToken``; kept apart because the API still sends it.
    case integrationAppToken
    case membraneToken
    case oauth2
    case oauth1
    case clientCredentials
    case proxy
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "integration-app-token": self = .integrationAppToken
        case "membrane-token": self = .membraneToken
        case "oauth2": self = .oauth2
        case "oauth1": self = .oauth1
        case "client-credentials": self = .clientCredentials
        case "proxy": self = .proxy
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .integrationAppToken: "integration-app-token"
        case .membraneToken: "membrane-token"
        case .oauth2: "oauth2"
        case .oauth1: "oauth1"
        case .clientCredentials: "client-credentials"
        case .proxy: "proxy"
        case .unknown(let value): value
        }
    }
}
