/// How much a log line matters. Raw values are the C API's MEMBRANE_LOG_* levels.
public enum LogLevel: Int32, Sendable, CaseIterable {
    /// A request ended without an answer, or with a server error.
    case warning = 2
    /// A request ended with an answer.
    case info = 3
}

/// Receives the client's log lines, on the thread that made the call, while
/// the call runs. Lines never hold the token or secret values.
public typealias LogHandler = @Sendable (LogLevel, String) -> Void
