/// Everything one GET needs, fixed before the transfer starts.
struct TransportRequest: Sendable {
    var url: String
    /// The path and query, for log lines (the URL without the API's origin).
    var path: String
    var headers: HeaderList
    var userAgent: String
    var timeoutMilliseconds: Int
    /// Set when the request's time counts from before it reaches the
    /// transport (a request started without blocking waits for a connection
    /// within it); otherwise `timeoutMilliseconds` counts from its start.
    var deadline: Deadline?
    var connectTimeoutMilliseconds: Int
    /// PEM bundle to trust instead of the system's; verification stays on.
    var caFile: String?
    var maximumResponseBytes: Int
    var log: LogHandler?
    /// Set only for the rehearsal: the answer libcurl reads instead of the network.
    var canned: CannedAnswer?
}
