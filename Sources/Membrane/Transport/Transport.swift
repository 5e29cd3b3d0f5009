import CCurl

/// HTTP GETs over libcurl, with kept-alive connections, retries, a deadline
/// per request, a size limit and cancellation.
///
/// It knows nothing of integrations: it returns whatever status and body the
/// server finally sent, and fails a request only when no complete response
/// arrived.
final class Transport: Sendable {
    private let pool = LanePool()
    let cancellation = Cancellation()

    init() throws(MembraneError) {
        try CurlGlobal.ensureInitialized()
    }

    /// One GET.
    func perform(_ request: TransportRequest, policy: RetryPolicy) -> Exchange {
        perform([request], parallel: 1, policy: policy)[0]
    }

    /// Several GETs, at most `parallel` at once; results in the order of `requests`.
    func perform(_ requests: [TransportRequest], parallel: Int,
                 policy: RetryPolicy) -> [Exchange] {
        guard !requests.isEmpty else { return [] }
        let ticket = cancellation.ticket()
        let lane: CurlLane
        let run: TransferRun
        do throws(MembraneError) {
            lane = try pool.acquire()
            run = try TransferRun(lane: lane, requests: requests, parallel: parallel, policy: policy)
        } catch {
            return requests.map { _ in Exchange(outcome: .failure(error), attempts: 0) }
        }
        defer { pool.release(lane) }
        return cancellation.tracking(lane) {
            run.run(until: { cancellation.isCancelled(ticket) })
        }
    }
}
