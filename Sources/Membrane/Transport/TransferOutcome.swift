/// How one attempt ended: an HTTP answer, or no complete answer.
enum TransferOutcome: Sendable {
    case response(HTTPResponse)
    case failure(TransportFailure)
}

/// A request's final answer and how many attempts it took.
struct Exchange: Sendable {
    var response: HTTPResponse
    var attempts: Int
}
