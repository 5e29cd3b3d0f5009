import CCurl

/// HTTP GETs over libcurl, with kept-alive connections, retries, a deadline
/// per request, a size limit and cancellation.
///
/// It knows nothing of integrations: it returns whatever status and body the
/// server finally sent, and fails a request only when no complete response
/// arrived. Blocking calls run on the calling thread, each in a lane of its
/// own; requests started without blocking run on the client's one I/O
/// thread (`TransferLoop`), started by the first of them.
final class Transport: Sendable {
    private let pool = LanePool()
    let cancellation = Cancellation()
    private let loopState = Locked<LoopState>(LoopState())

    private struct LoopState {
        var loop: TransferLoop?
        /// Set by `stopLoop`: no I/O thread is started after it.
        var stopped = false
    }

    init() throws(MembraneError) {
        try CurlGlobal.ensureInitialized()
    }

    deinit {
        loopState.withLock { $0.loop }?.stop()
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
        do throws(MembraneError) {
            lane = try pool.acquire()
        } catch {
            return requests.map { _ in Exchange(outcome: .failure(error), attempts: 0) }
        }
        defer { pool.release(lane) }
        let run = lane.run(parallel: min(parallel, requests.count))
        for (place, request) in requests.enumerated() {
            run.add(request, policy: policy, storingAt: place)
        }
        cancellation.tracking(lane) {
            while run.unfinished > 0 {
                if cancellation.isCancelled(ticket) {
                    run.failAll(MembraneError(code: .canceled, message: "the call was cancelled"))
                    break
                }
                run.step(maximumWait: .max)
            }
        }
        return run.takeCollected(count: requests.count)
    }

    // MARK: Without blocking

    /// Hands `request` to the I/O thread (starting it the first time);
    /// `completion` runs on that thread, exactly once.
    func start(_ request: TransportRequest, policy: RetryPolicy, parallel: Int,
               completion: @escaping @Sendable (Exchange) -> Void) throws(MembraneError) -> TransferLoop.Ticket {
        try loop().submit(request, policy: policy, parallel: parallel, completion: completion)
    }

    /// Runs `action` on the I/O thread at `deadline` unless cancelled first.
    func schedule(at deadline: Deadline, _ action: @escaping @Sendable () -> Void) throws(MembraneError) -> TransferLoop.Ticket {
        try loop().schedule(at: deadline, action)
    }

    /// Stops one request handed to `start` (or a timer); its completion then receives
    /// `.canceled` (unless it has already run).
    func cancel(_ ticket: TransferLoop.Ticket) {
        loopState.withLock { $0.loop }?.cancel(ticket)
    }

    /// Stops the I/O thread and waits for it (unless called on it): requests
    /// still running complete with `.canceled`. No thread starts afterwards.
    func stopLoop() {
        let loop = loopState.withLock { state -> TransferLoop? in
            state.stopped = true
            return state.loop
        }
        loop?.stop()
    }

    private func loop() throws(MembraneError) -> TransferLoop {
        try loopState.withLock { (state: inout LoopState) throws(MembraneError) -> TransferLoop in
            if let loop = state.loop { return loop }
            guard !state.stopped else { throw MembraneError(code: .canceled, message: "the client is closing") }
            let loop = try TransferLoop(lane: try CurlLane())
            state.loop = loop
            return loop
        }
    }
}
