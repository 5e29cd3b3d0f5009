/// A transfer that produced no complete response.
struct TransportFailure: Error, Sendable {
    var error: MembraneError
    /// True when the connection failed before any byte of a response arrived
    /// (refused, reset, closed early): sending the GET again is safe and may work.
    var isRetryable: Bool
}
