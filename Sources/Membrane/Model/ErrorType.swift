/// The `type` of an API error (`ErrorData.type`, and the error bodies of
/// failed requests). Unknown values are kept as `.unknown`.
public enum ErrorType: Hashable, Sendable, RawRepresentable {
    case badRequest
    case connection
    case configuration
    case dependencyError
    case flowRun
    case flowInstanceSetup
    case concurrency
    case `internal`
    case actionRun
    case actionInstanceSetup
    case unitRun
    case customCode
    case insufficientCredit
    case openrouterNotConfigured
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "bad_request": self = .badRequest
        case "connection": self = .connection
        case "configuration": self = .configuration
        case "dependency_error": self = .dependencyError
        case "flow_run": self = .flowRun
        case "flow_instance_setup": self = .flowInstanceSetup
        case "concurrency": self = .concurrency
        case "internal": self = .internal
        case "action_run": self = .actionRun
        case "action_instance_setup": self = .actionInstanceSetup
        case "unit_run": self = .unitRun
        case "custom_code": self = .customCode
        case "insufficient_credit": self = .insufficientCredit
        case "openrouter_not_configured": self = .openrouterNotConfigured
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .badRequest: "bad_request"
        case .connection: "connection"
        case .configuration: "configuration"
        case .dependencyError: "dependency_error"
        case .flowRun: "flow_run"
        case .flowInstanceSetup: "flow_instance_setup"
        case .concurrency: "concurrency"
        case .internal: "internal"
        case .actionRun: "action_run"
        case .actionInstanceSetup: "action_instance_setup"
        case .unitRun: "unit_run"
        case .customCode: "custom_code"
        case .insufficientCredit: "insufficient_credit"
        case .openrouterNotConfigured: "openrouter_not_configured"
        case .unknown(let value): value
        }
    }
}
