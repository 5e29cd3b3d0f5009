/// How a request ended, after its retries: the server's final answer, or the
/// failure that left none, and how many attempts that took. The transport
/// hands these back raw; the client's funnel (`ClientSettings.finish`) makes
/// them into what a caller sees.
struct Exchange: Sendable {
    var outcome: Result<HTTPResponse, MembraneError>
    /// Attempts that led to `outcome`; 0 when the call itself ended the
    /// request (cancellation, libcurl failing as a whole), not an attempt.
    var attempts: Int
}

extension Exchange {
    /// The server answered 401: the token was refused.
    var isUnauthorized: Bool {
        if case .success(let response) = outcome { response.status == 401 } else { false }
    }
}
