/// An integration's or connection's lifecycle state.
///
/// The API adds states over time (older servers sent `SETTING_UP`): a value
/// this version does not know is kept as `.unknown`, never rejected.
public enum State: Hashable, Sendable, RawRepresentable {
    case building
    case clientActionRequired
    case configurationError
    case setupFailed
    case ready
    case disconnecting
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "BUILDING": self = .building
        case "CLIENT_ACTION_REQUIRED": self = .clientActionRequired
        case "CONFIGURATION_ERROR": self = .configurationError
        case "SETUP_FAILED": self = .setupFailed
        case "READY": self = .ready
        case "DISCONNECTING": self = .disconnecting
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .building: "BUILDING"
        case .clientActionRequired: "CLIENT_ACTION_REQUIRED"
        case .configurationError: "CONFIGURATION_ERROR"
        case .setupFailed: "SETUP_FAILED"
        case .ready: "READY"
        case .disconnecting: "DISCONNECTING"
        case .unknown(let value): value
        }
    }
}
