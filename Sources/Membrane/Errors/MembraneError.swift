/// Why a call failed. The C API's `membrane_error` carries the same fields.
public struct MembraneError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure. Raw values are the C API's MEMBRANE_E* codes.
    public enum Code: Int32, Sendable, CaseIterable {
        case invalidArgument = -1
        case notAuthenticated = -2
        case accessDenied = -3
        case notFound = -4
        case rateLimited = -5
        case badRequest = -6
        case server = -7
        case network = -8
        case timeout = -9
        case tls = -10
        case protocolError = -11
        case `internal` = -12
        case canceled = -13

        /// A short English description; static text, so the C API can hand it out.
        public var summary: StaticString {
            switch self {
            case .invalidArgument: "invalid argument"
            case .notAuthenticated: "not authenticated"
            case .accessDenied: "access denied"
            case .notFound: "not found"
            case .rateLimited: "rate limit exceeded"
            case .badRequest: "bad request"
            case .server: "server error"
            case .network: "network error"
            case .timeout: "timed out"
            case .tls: "TLS error"
            case .protocolError: "unexpected response"
            case .internal: "internal error"
            case .canceled: "canceled"
            }
        }
    }

    public var code: Code
    /// The HTTP status, or 0 when no response was received.
    public var httpStatus: Int
    /// The API's error type (e.g. "bad_request"), or "".
    public var type: String
    /// The API's error key (e.g. "not_found"), or "".
    public var key: String
    /// What happened, for a person. Never holds the token.
    public var message: String
    /// `data.errorId` of an internal server error, to quote to support, or "".
    public var errorId: String

    public init(code: Code, httpStatus: Int = 0, type: String = "", key: String = "",
                message: String, errorId: String = "") {
        self.code = code
        self.httpStatus = httpStatus
        self.type = type
        self.key = key
        self.message = message
        self.errorId = errorId
    }

    public var description: String { message }

    static func invalidArgument(_ message: String) -> MembraneError {
        MembraneError(code: .invalidArgument, message: message)
    }

    /// A copy fit to show: every field cleaned by ``Redaction``.
    func sanitized(hiding secret: String) -> MembraneError {
        func clean(_ text: String) -> String { Redaction.clean(text, hiding: secret) }
        return MembraneError(code: code, httpStatus: httpStatus, type: clean(type), key: clean(key),
                             message: clean(message), errorId: clean(errorId))
    }
}
