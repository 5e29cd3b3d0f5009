/// What a connection in `CLIENT_ACTION_REQUIRED` needs from the user.
/// Unknown values are kept as `.unknown`.
public enum ClientActionType: Hashable, Sendable, RawRepresentable {
    /// The user must authenticate or re-authenticate.
    case connect
    /// More information is needed.
    case provideInput
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "connect": self = .connect
        case "provide-input": self = .provideInput
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .connect: "connect"
        case .provideInput: "provide-input"
        case .unknown(let value): value
        }
    }
}
