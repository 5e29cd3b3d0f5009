import CCurl

/// Drives a set of GETs to their ends in one lane, on the calling thread:
/// at most `parallel` at once, each retried by the policy within its own
/// deadline (which starts when the request first starts), all of them ended
/// by cancellation.
///
/// A single lookup is a run of one. Waits between attempts are not sleeps:
/// the run keeps polling the lane until the earliest retry is due, so other
/// requests progress meanwhile and a cancel wakes it at once.
final class TransferRun {
    private struct Job {
        let request: TransportRequest
        var attempts = 0
        var deadline: Deadline?
        /// Monotonic milliseconds before which the next attempt must not start.
        var notBefore: Int64 = 0
        /// When the current attempt started, for log lines.
        var attemptStarted: Int64 = 0
        var result: Exchange?
    }

    /// One easy handle and the job it is running, if any.
    private struct Slot {
        let easy: CurlEasy
        var job: Int?
        var sink: ResponseSink?
    }

    private let lane: CurlLane
    private let policy: RetryPolicy
    private var jobs: [Job]
    private var slots: [Slot]
    /// The connection cap: at most this many connections, and, until the
    /// server is seen to speak HTTP/2, this many requests at once.
    private let parallel: Int
    /// Whether a response came over HTTP/2: then requests share connections
    /// as streams, and up to `streamsPerConnection` run on each.
    private var multiplexing = false
    /// Jobs not yet finished and not running, in the order they came.
    private var queue: [Int]
    private var finished = 0

    /// Streams per connection once the server speaks HTTP/2 (servers allow
    /// 100 or more; this bounds the easy handles a batch creates).
    private static let streamsPerConnection = 16

    /// How long one poll may last before deadlines and cancellation are
    /// checked again (a wakeup or socket activity ends it sooner).
    private static let pollSliceMilliseconds: Int64 = 1000

    init(lane: CurlLane, requests: [TransportRequest], parallel: Int, policy: RetryPolicy) throws(MembraneError) {
        self.lane = lane
        self.policy = policy
        jobs = requests.map { Job(request: $0) }
        queue = Array(jobs.indices)
        self.parallel = max(1, parallel)
        let width = min(self.parallel, max(1, requests.count))
        slots = try lane.easies(width).map { Slot(easy: $0) }
        lane.limitConnections(to: width)
    }

    func run(until cancelled: () -> Bool) -> [Exchange] {
        while finished < jobs.count {
            if cancelled() {
                cancelUnfinished()
                break
            }
            startReadyJobs()
            var running: Int32 = 0
            guard curl_multi_perform(lane.multi, &running) == CURLM_OK else {
                failUnfinished(MembraneError(code: .internal, message: "libcurl failed to run the transfers"))
                break
            }
            collectFinishedTransfers()
            guard finished < jobs.count else { break }
            _ = curl_multi_poll(lane.multi, nil, 0, Int32(pollTimeout()), nil)
        }
        return jobs.map { $0.result ?? Exchange(outcome: .failure(MembraneError(code: .internal, message: "a request was lost")),
                                                attempts: 0) }
    }

    // MARK: Starting

    private func startReadyJobs() {
        let now = Deadline.now()
        while let slotIndex = slots.firstIndex(where: { $0.job == nil }),
              let position = queue.firstIndex(where: { jobs[$0].notBefore <= now }) {
            start(queue.remove(at: position), in: slotIndex)
        }
    }

    private func start(_ jobIndex: Int, in slotIndex: Int) {
        let deadline = jobs[jobIndex].deadline ?? Deadline(after: jobs[jobIndex].request.timeoutMilliseconds)
        jobs[jobIndex].deadline = deadline
        jobs[jobIndex].attempts += 1
        jobs[jobIndex].attemptStarted = Deadline.now()
        let easy = slots[slotIndex].easy
        let sink = ResponseSink(limit: jobs[jobIndex].request.maximumResponseBytes)
        easy.prepare(for: jobs[jobIndex].request, deadline: deadline, sink: sink)
        guard curl_multi_add_handle(lane.multi, easy.handle) == CURLM_OK else {
            finish(jobIndex, Exchange(outcome: .failure(MembraneError(code: .internal, message: "libcurl refused the transfer")),
                                      attempts: 0))
            return
        }
        slots[slotIndex].job = jobIndex
        slots[slotIndex].sink = sink
    }

    // MARK: Finishing

    private func collectFinishedTransfers() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(lane.multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE,
                  let slotIndex = slots.firstIndex(where: { $0.easy.handle == message.pointee.easy_handle }),
                  let jobIndex = slots[slotIndex].job, let sink = slots[slotIndex].sink else { continue }
            let result = message.pointee.data.result
            if result == CURLE_OK && !multiplexing { noteProtocol(of: slots[slotIndex].easy) }
            let outcome = outcome(of: result, easy: slots[slotIndex].easy, sink: sink, jobIndex: jobIndex)
            curl_multi_remove_handle(lane.multi, slots[slotIndex].easy.handle)
            slots[slotIndex].job = nil
            slots[slotIndex].sink = nil
            settle(jobIndex, after: outcome)
        }
    }

    /// Widens the run once a response shows HTTP/2: the connections stay
    /// capped at `parallel`, and libcurl multiplexes the extra requests on them.
    private func noteProtocol(of easy: CurlEasy) {
        var version = 0
        _ = mbcurl_getinfo_long(easy.handle, CURLINFO_HTTP_VERSION, &version)
        guard version == Int(CURL_HTTP_VERSION_2_0) else { return }
        multiplexing = true
        let width = min(jobs.count, parallel * Self.streamsPerConnection)
        guard width > slots.count, let easies = try? lane.easies(width) else { return }
        slots += easies[slots.count...].map { Slot(easy: $0) }
    }

    private func outcome(of result: CURLcode, easy: CurlEasy, sink: ResponseSink, jobIndex: Int) -> TransferOutcome {
        // The status, when a status line arrived, even if the body did not.
        var status = 0
        _ = mbcurl_getinfo_long(easy.handle, CURLINFO_RESPONSE_CODE, &status)
        guard result == CURLE_OK else {
            var error: MembraneError
            if sink.exceededLimit {
                let limit = jobs[jobIndex].request.maximumResponseBytes
                error = MembraneError(code: .protocolError, message: "the response is larger than the limit of \(limit) bytes")
            } else {
                error = CurlErrorMapping.error(for: result, detail: easy.errorText)
            }
            error.httpStatus = status
            return .failure(TransportFailure(
                error: error,
                isRetryable: !sink.exceededLimit && !sink.receivedAnything && CurlErrorMapping.isConnectionFailure(result)))
        }
        return .response(HTTPResponse(status: status, body: sink.body, contentType: sink.contentType,
                                      location: sink.location, retryAfter: sink.retryAfter))
    }

    /// Retries the job, or records its final result.
    private func settle(_ jobIndex: Int, after outcome: TransferOutcome) {
        let job = jobs[jobIndex]
        log(job, outcome)
        if let wait = policy.wait(after: outcome, attempt: job.attempts),
           let deadline = job.deadline, wait < deadline.remaining {
            jobs[jobIndex].notBefore = Deadline.now() + Int64(wait)
            queue.append(jobIndex)
            job.request.log?(.warning, "GET \(job.request.path): retrying in \(wait) ms"
                             + " (attempt \(job.attempts + 1) of \(policy.maximumRetries + 1))")
            return
        }
        switch outcome {
        case .response(let response):
            finish(jobIndex, Exchange(outcome: .success(response), attempts: job.attempts))
        case .failure(let failure):
            finish(jobIndex, Exchange(outcome: .failure(failure.error), attempts: job.attempts))
        }
    }

    /// One line per attempt: what came back, which attempt, how long it took.
    private func log(_ job: Job, _ outcome: TransferOutcome) {
        guard let log = job.request.log else { return }
        let detail = "(attempt \(job.attempts), \(Deadline.now() - job.attemptStarted) ms)"
        switch outcome {
        case .response(let response):
            log(response.status >= 500 ? .warning : .info, "GET \(job.request.path): \(response.status) \(detail)")
        case .failure(let failure):
            log(.warning, "GET \(job.request.path): \(failure.error.message) \(detail)")
        }
    }

    private func finish(_ jobIndex: Int, _ result: Exchange) {
        guard jobs[jobIndex].result == nil else { return }
        jobs[jobIndex].result = result
        finished += 1
    }

    private func cancelUnfinished() {
        failUnfinished(MembraneError(code: .canceled, message: "the call was cancelled"))
    }

    private func failUnfinished(_ error: MembraneError) {
        for index in slots.indices where slots[index].job != nil {
            curl_multi_remove_handle(lane.multi, slots[index].easy.handle)
            slots[index].job = nil
            slots[index].sink = nil
        }
        for index in jobs.indices {
            finish(index, Exchange(outcome: .failure(error), attempts: 0))
        }
        queue.removeAll()
    }

    // MARK: Waiting

    /// Until the earliest due retry when nothing runs; a slice otherwise.
    private func pollTimeout() -> Int64 {
        let now = Deadline.now()
        var timeout = Self.pollSliceMilliseconds
        if slots.contains(where: { $0.job == nil }) {
            for jobIndex in queue {
                timeout = min(timeout, max(0, jobs[jobIndex].notBefore - now))
            }
        }
        return max(timeout, 0)
    }
}
