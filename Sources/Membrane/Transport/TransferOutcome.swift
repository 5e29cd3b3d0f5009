/// How one attempt ended: an HTTP answer, or no complete answer.
enum TransferOutcome: Sendable {
    case response(HTTPResponse)
    case failure(TransportFailure)
}
