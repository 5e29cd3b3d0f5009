import CCurl

/// Drives GETs to their ends in one lane, on one thread: each retried by
/// its policy within its own deadline, at most `parallel` connections (and
/// as many requests at once until the server is seen to speak HTTP/2), the
/// rest waiting in the order they were added.
///
/// Jobs may be added and cancelled between steps, so one run serves both a
/// blocking call (add its requests, step until none is left) and a client's
/// I/O thread (a run that lives as long as the client). Each job has its own
/// completion, called exactly once, on the thread that steps the run.
///
/// Waits between attempts are not sleeps: the run keeps polling the lane
/// until the earliest retry is due, so other requests progress meanwhile and
/// a wakeup ends the wait at once.
final class TransferRun {
    typealias Completion = (Exchange) -> Void

    /// A job's place and the serial it was added with: a stale id never
    /// reaches a later job that reuses the place.
    struct JobID: Sendable, Equatable {
        fileprivate let index: Int
        fileprivate let serial: UInt64
    }

    /// Where a job's exchange goes: a completion, or a place in
    /// `collected` (a blocking call's results, no closure to allocate).
    private enum Delivery {
        case call(Completion)
        case store(Int)
    }

    private struct Job {
        let serial: UInt64
        let request: TransportRequest
        let policy: RetryPolicy
        let delivery: Delivery
        var attempts = 0
        var deadline: Deadline?
        /// Monotonic milliseconds before which the next attempt must not start.
        var notBefore: Int64 = 0
        /// When the current attempt started, for log lines.
        var attemptStarted: Int64 = 0
        /// The slot running it, while it runs.
        var slot: Int?
    }

    /// One easy handle and the job it is running, if any.
    private struct Slot {
        let easy: CurlEasy
        var job: Int?
        var sink: ResponseSink?
    }

    /// Unowned: a lane keeps its run for reuse, and the run never outlives it.
    private unowned let lane: CurlLane
    private var jobs: [Job?] = []
    /// Results of jobs added with `add(_:policy:storingAt:)`.
    private var collected: [Exchange?] = []
    private var freeJobs: [Int] = []
    private var nextSerial: UInt64 = 1
    private var slots: [Slot] = []
    private var idleSlots: [Int] = []
    private var slotOfHandle: [UnsafeMutableRawPointer: Int] = [:]
    /// The connection cap: at most this many connections, and, until the
    /// server is seen to speak HTTP/2, this many requests at once.
    private var parallel: Int
    /// Whether a response came over HTTP/2: then requests share connections
    /// as streams, and up to `streamsPerConnection` run on each.
    private var multiplexing = false
    /// Jobs waiting for a slot, first come first served (from `waitingHead`).
    private var waiting: [JobID] = []
    private var waitingHead = 0
    /// Jobs waiting to be retried (few; each has its own `notBefore`).
    private var delayed: [JobID] = []
    /// Jobs added and not yet completed.
    private(set) var unfinished = 0

    /// Streams per connection once the server speaks HTTP/2 (servers allow
    /// 100 or more; this bounds the easy handles a run creates).
    private static let streamsPerConnection = 16

    /// How long one poll may last before deadlines are checked again (a
    /// wakeup or socket activity ends it sooner).
    private static let pollSliceMilliseconds: Int64 = 1000

    init(lane: CurlLane, parallel: Int) {
        self.lane = lane
        self.parallel = max(1, parallel)
        lane.limitConnections(to: self.parallel)
    }

    /// The connection cap for the requests from now on (a client's setting
    /// may change while its I/O thread runs).
    func setParallel(_ count: Int) {
        let count = max(1, count)
        guard count != parallel else { return }
        parallel = count
        lane.limitConnections(to: count)
    }

    /// Adds a GET; `completion` receives its exchange after its retries, or
    /// the failure that ended it. The request's own `deadline`, when set,
    /// counts from before it was added (time spent waiting for a slot
    /// included); otherwise its timeout counts from when it first starts.
    @discardableResult
    func add(_ request: TransportRequest, policy: RetryPolicy, completion: @escaping Completion) -> JobID {
        add(request, policy: policy, delivery: .call(completion))
    }

    /// Adds a GET whose exchange `takeCollected()` hands back at `place`
    /// (a blocking call's requests: no closure per request).
    func add(_ request: TransportRequest, policy: RetryPolicy, storingAt place: Int) {
        if collected.count <= place {
            collected.append(contentsOf: repeatElement(nil, count: place + 1 - collected.count))
        }
        add(request, policy: policy, delivery: .store(place))
    }

    /// The stored exchanges, in place order; the run keeps its buffer.
    func takeCollected(count: Int) -> [Exchange] {
        defer {
            for index in collected.indices { collected[index] = nil }
        }
        return (0..<count).map { place in
            (place < collected.count ? collected[place] : nil)
                ?? Exchange(outcome: .failure(MembraneError(code: .internal, message: "a request was lost")), attempts: 0)
        }
    }

    @discardableResult
    private func add(_ request: TransportRequest, policy: RetryPolicy, delivery: Delivery) -> JobID {
        let job = Job(serial: nextSerial, request: request, policy: policy, delivery: delivery,
                      deadline: request.deadline)
        nextSerial += 1
        let index: Int
        if let free = freeJobs.popLast() {
            index = free
            jobs[index] = job
        } else {
            index = jobs.count
            jobs.append(job)
        }
        unfinished += 1
        let id = JobID(index: index, serial: job.serial)
        waiting.append(id)
        return id
    }

    /// Ends one job with `error` (its transfer stops at once); false when it
    /// had already ended.
    @discardableResult
    func cancel(_ id: JobID, with error: MembraneError) -> Bool {
        guard live(id) else { return false }
        stopTransfer(of: id.index)
        finish(id.index, Exchange(outcome: .failure(error), attempts: 0))
        return true
    }

    /// Ends every job with `error`.
    func failAll(_ error: MembraneError) {
        for index in jobs.indices where jobs[index] != nil {
            stopTransfer(of: index)
            finish(index, Exchange(outcome: .failure(error), attempts: 0))
        }
        waiting.removeAll()
        waitingHead = 0
        delayed.removeAll()
    }

    /// One turn: starts what may start, lets libcurl move the transfers,
    /// completes what ended, then waits for activity (or a wakeup) at most
    /// until the next thing is due, and no longer than `maximumWait` ms.
    /// With no job left it returns at once, unless `waitWhenIdle` (an I/O
    /// thread waiting for work: a wakeup ends that wait).
    /// false when libcurl failed as a whole (every job has then failed).
    @discardableResult
    func step(maximumWait: Int64, waitWhenIdle: Bool = false) -> Bool {
        expireWaitingJobs()
        startReadyJobs()
        var running: Int32 = 0
        guard curl_multi_perform(lane.multi, &running) == CURLM_OK else {
            failAll(MembraneError(code: .internal, message: "libcurl failed to run the transfers"))
            return false
        }
        collectFinishedTransfers()
        guard unfinished > 0 || waitWhenIdle else { return true }
        let timeout = min(maximumWait, pollTimeout())
        if timeout > 0 {
            _ = curl_multi_poll(lane.multi, nil, 0, Int32(timeout), nil)
        }
        return true
    }

    private func live(_ id: JobID) -> Bool {
        id.index < jobs.count && jobs[id.index]?.serial == id.serial
    }

    // MARK: Starting

    /// How many requests may run at once now.
    private var capacity: Int {
        multiplexing ? parallel * Self.streamsPerConnection : parallel
    }

    private var busySlots: Int { slots.count - idleSlots.count }

    private func startReadyJobs() {
        let now = Deadline.now()
        // Retries that are due go first: they were started earlier.
        var index = 0
        while index < delayed.count, busySlots < capacity {
            let id = delayed[index]
            guard live(id) else {
                delayed.remove(at: index)
                continue
            }
            if jobs[id.index]!.notBefore <= now, let slot = freeSlot() {
                delayed.remove(at: index)
                start(id.index, in: slot)
            } else {
                index += 1
            }
        }
        while waitingHead < waiting.count, busySlots < capacity {
            let id = waiting[waitingHead]
            guard live(id) else {
                waitingHead += 1
                continue
            }
            guard let slot = freeSlot() else { break }
            waitingHead += 1
            start(id.index, in: slot)
        }
        compactWaiting()
    }

    /// An idle slot, creating one when the capacity allows; nil when libcurl
    /// cannot make another handle (the job then waits for one to free up).
    private func freeSlot() -> Int? {
        if let slot = idleSlots.popLast() { return slot }
        guard slots.count < capacity, let easy = try? lane.easy(slots.count) else { return nil }
        slots.append(Slot(easy: easy))
        slotOfHandle[easy.handle] = slots.count - 1
        return slots.count - 1
    }

    private func compactWaiting() {
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        } else if waitingHead > 1024 && waitingHead * 2 > waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
    }

    private func start(_ jobIndex: Int, in slotIndex: Int) {
        let deadline = jobs[jobIndex]!.deadline ?? Deadline(after: jobs[jobIndex]!.request.timeoutMilliseconds)
        jobs[jobIndex]!.deadline = deadline
        jobs[jobIndex]!.attempts += 1
        jobs[jobIndex]!.attemptStarted = Deadline.now()
        let easy = slots[slotIndex].easy
        let sink = ResponseSink(limit: jobs[jobIndex]!.request.maximumResponseBytes)
        easy.prepare(for: jobs[jobIndex]!.request, deadline: deadline, sink: sink)
        guard curl_multi_add_handle(lane.multi, easy.handle) == CURLM_OK else {
            idleSlots.append(slotIndex)
            finish(jobIndex, Exchange(outcome: .failure(MembraneError(code: .internal, message: "libcurl refused the transfer")),
                                      attempts: 0))
            return
        }
        slots[slotIndex].job = jobIndex
        slots[slotIndex].sink = sink
        jobs[jobIndex]!.slot = slotIndex
    }

    /// Jobs whose deadline passed while they waited for a slot end now, not
    /// when a slot frees up. Deadlines grow along the queue (each counts
    /// from when its job was added), so the sweep stops at the first job
    /// still in time; a job with a shorter timeout behind it ends when it
    /// starts (libcurl then times it out at once).
    private func expireWaitingJobs() {
        while waitingHead < waiting.count {
            let id = waiting[waitingHead]
            guard live(id) else {
                waitingHead += 1
                continue
            }
            guard let deadline = jobs[id.index]!.deadline, deadline.hasPassed else { break }
            waitingHead += 1
            let timeout = jobs[id.index]!.request.timeoutMilliseconds
            finish(id.index, Exchange(outcome: .failure(MembraneError(
                code: .timeout, message: "the request timed out after \(timeout) ms, waiting for a connection")),
                attempts: 0))
        }
    }

    // MARK: Finishing

    private func collectFinishedTransfers() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(lane.multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE,
                  let handle = message.pointee.easy_handle,
                  let slotIndex = slotOfHandle[handle],
                  let jobIndex = slots[slotIndex].job, let sink = slots[slotIndex].sink else { continue }
            let result = message.pointee.data.result
            if result == CURLE_OK && !multiplexing { noteProtocol(of: slots[slotIndex].easy) }
            let outcome = outcome(of: result, easy: slots[slotIndex].easy, sink: sink, jobIndex: jobIndex)
            stopTransfer(of: jobIndex)
            settle(jobIndex, after: outcome)
        }
    }

    /// Takes the job's handle out of the multi and frees its slot.
    private func stopTransfer(of jobIndex: Int) {
        guard let slotIndex = jobs[jobIndex]?.slot else { return }
        curl_multi_remove_handle(lane.multi, slots[slotIndex].easy.handle)
        slots[slotIndex].job = nil
        slots[slotIndex].sink = nil
        idleSlots.append(slotIndex)
        jobs[jobIndex]!.slot = nil
    }

    /// Widens the run once a response shows HTTP/2: the connections stay
    /// capped at `parallel`, and libcurl multiplexes the extra requests on them.
    private func noteProtocol(of easy: CurlEasy) {
        var version = 0
        _ = mbcurl_getinfo_long(easy.handle, CURLINFO_HTTP_VERSION, &version)
        multiplexing = version == Int(CURL_HTTP_VERSION_2_0)
    }

    private func outcome(of result: CURLcode, easy: CurlEasy, sink: ResponseSink, jobIndex: Int) -> TransferOutcome {
        // The status, when a status line arrived, even if the body did not.
        var status = 0
        _ = mbcurl_getinfo_long(easy.handle, CURLINFO_RESPONSE_CODE, &status)
        guard result == CURLE_OK else {
            var error: MembraneError
            if sink.exceededLimit {
                let limit = jobs[jobIndex]!.request.maximumResponseBytes
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

    /// Retries the job, or completes it.
    private func settle(_ jobIndex: Int, after outcome: TransferOutcome) {
        let job = jobs[jobIndex]!
        log(job, outcome)
        if let wait = job.policy.wait(after: outcome, attempt: job.attempts),
           let deadline = job.deadline, wait < deadline.remaining {
            jobs[jobIndex]!.notBefore = Deadline.now() + Int64(wait)
            delayed.append(JobID(index: jobIndex, serial: job.serial))
            job.request.log?(.warning, "GET \(job.request.path): retrying in \(wait) ms"
                             + " (attempt \(job.attempts + 1) of \(job.policy.maximumRetries + 1))")
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

    /// Frees the job's place, then calls its completion (which may add jobs).
    private func finish(_ jobIndex: Int, _ result: Exchange) {
        guard let job = jobs[jobIndex] else { return }
        jobs[jobIndex] = nil
        freeJobs.append(jobIndex)
        unfinished -= 1
        switch job.delivery {
        case .call(let completion): completion(result)
        case .store(let place): collected[place] = result
        }
    }

    // MARK: Waiting

    /// Until the earliest due retry or waiting deadline when a slot is free;
    /// a slice otherwise.
    private func pollTimeout() -> Int64 {
        let now = Deadline.now()
        var timeout = Self.pollSliceMilliseconds
        if busySlots < capacity {
            for id in delayed where live(id) {
                timeout = min(timeout, max(0, jobs[id.index]!.notBefore - now))
            }
            if waitingHead < waiting.count { timeout = 0 }
        }
        for id in waiting[waitingHead...] where live(id) {
            if let deadline = jobs[id.index]!.deadline { timeout = min(timeout, Int64(deadline.remaining)) }
            break
        }
        return max(timeout, 0)
    }
}
