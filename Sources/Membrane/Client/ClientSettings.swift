/// A client's configuration. Each call takes a snapshot when it starts, so
/// changing a setting never affects a call in flight.
struct ClientSettings: Sendable {
    static let defaultTimeoutMilliseconds = 30_000
    static let defaultConnectTimeoutMilliseconds = 10_000
    /// The vendor's documented maximum response is 30 MB.
    static let defaultMaximumResponseBytes = 32 * 1024 * 1024
    static let defaultUserAgent = "libmembrane/\(MembraneVersion.string)"

    let apiURL: APIURL
    var timeoutMilliseconds = defaultTimeoutMilliseconds
    var connectTimeoutMilliseconds = defaultConnectTimeoutMilliseconds
    var maximumResponseBytes = defaultMaximumResponseBytes
    var userAgent = defaultUserAgent
    var caFile: String?
    var retryPolicy = RetryPolicy()
    var maximumParallel = 8
    var maximumPages = 1000
    /// Whether single lookups asked at the same moment share one request.
    var sharesRequests = true
    var log: LogHandler?
    /// Only for the rehearsal client: the HTTP answer to play for a path.
    var cannedAnswers: (@Sendable (String) -> CannedAnswer)?
    init(apiURL: APIURL) {
        self.apiURL = apiURL
    }

    /// A GET of `path` (which starts with "/") under the API's base URL, with
    /// `token`'s headers, within what is left of the call's `deadline`:
    /// counted from when the transport starts it, or, with `waitsForSlot`
    /// (requests started without blocking), including any wait for a
    /// connection.
    func request(for path: String, token: IssuedToken, deadline: Deadline,
                 waitsForSlot: Bool = false) -> TransportRequest {
        TransportRequest(url: apiURL.string + path, path: path, headers: token.headers, userAgent: userAgent,
                         timeoutMilliseconds: max(1, deadline.remaining),
                         deadline: waitsForSlot ? deadline : nil,
                         connectTimeoutMilliseconds: connectTimeoutMilliseconds,
                         caFile: caFile, maximumResponseBytes: maximumResponseBytes, log: log,
                         canned: cannedAnswers?(path))
    }
}
