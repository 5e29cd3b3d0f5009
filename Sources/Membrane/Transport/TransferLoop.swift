#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CCurl

/// A client's I/O thread: one `TransferRun` that lives as long as the
/// client, stepped by a thread of its own, taking requests and cancels from
/// any thread through a locked inbox.
///
/// Callers never touch the run: they post a command and wake the thread
/// (`curl_multi_wakeup` ends its `curl_multi_poll`), at most once per batch
/// of commands. Completions run on this thread; they must not block.
final class TransferLoop: @unchecked Sendable {
    /// Identifies a submitted request, for `cancel`.
    struct Ticket: Sendable, Hashable {
        fileprivate let value: UInt64
    }

    private enum Command {
        case add(Ticket, TransportRequest, RetryPolicy, parallel: Int, completion: @Sendable (Exchange) -> Void)
        case cancel(Ticket)
        /// Runs `action` at `time` (monotonic ms) unless cancelled first.
        case timer(Ticket, at: Int64, action: @Sendable () -> Void)
    }

    private struct Inbox {
        var commands: [Command] = []
        var nextTicket: UInt64 = 1
        var stopping = false
        /// Whether the thread was woken since it last drained the inbox.
        var woken = false
    }

    private let lane: CurlLane
    private let inbox = Locked<Inbox>(Inbox())
    private var thread = pthread_t()
    /// Only the I/O thread touches these.
    private var run: TransferRun
    private var jobs: [Ticket: TransferRun.JobID] = [:]
    private var timers: [(ticket: Ticket, at: Int64, action: @Sendable () -> Void)] = []

    private static let canceled = MembraneError(code: .canceled, message: "the request was cancelled")

    init(lane: CurlLane) throws(MembraneError) {
        self.lane = lane
        run = TransferRun(lane: lane, parallel: 1)
        let context = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let loop = Unmanaged<TransferLoop>.fromOpaque(context).takeRetainedValue()
            loop.main()
            return nil
        }, context)
        guard started == 0 else {
            Unmanaged<TransferLoop>.fromOpaque(context).release()
            throw MembraneError(code: .internal, message: "could not start the client's I/O thread")
        }
    }

    /// Queues `request`; `completion` receives its exchange on the I/O thread.
    func submit(_ request: TransportRequest, policy: RetryPolicy, parallel: Int,
                completion: @escaping @Sendable (Exchange) -> Void) throws(MembraneError) -> Ticket {
        try post { ticket in .add(ticket, request, policy, parallel: parallel, completion: completion) }
    }

    /// Runs `action` on the I/O thread at `deadline`, unless `cancel` comes first.
    func schedule(at deadline: Deadline, _ action: @escaping @Sendable () -> Void) throws(MembraneError) -> Ticket {
        let at = Deadline.now() + Int64(deadline.remaining)
        return try post { ticket in .timer(ticket, at: at, action: action) }
    }

    /// Stops a request (its completion receives `.canceled`) or a timer.
    func cancel(_ ticket: Ticket) {
        _ = try? post { _ in .cancel(ticket) }
    }

    private func post(_ make: (Ticket) -> Command) throws(MembraneError) -> Ticket {
        let (ticket, wake) = try inbox.withLock { (inbox: inout Inbox) throws(MembraneError) -> (Ticket, Bool) in
            guard !inbox.stopping else { throw MembraneError(code: .canceled, message: "the client is closing") }
            let ticket = Ticket(value: inbox.nextTicket)
            inbox.nextTicket += 1
            inbox.commands.append(make(ticket))
            defer { inbox.woken = true }
            return (ticket, !inbox.woken)
        }
        if wake { _ = curl_multi_wakeup(lane.multi) }
        return ticket
    }

    /// Ends the thread: every request still queued or running completes
    /// with `.canceled` on it first. Waits for it, unless called on it
    /// (a completion that dropped the last reference to its client).
    func stop() {
        let first = inbox.withLock { inbox -> Bool in
            defer { inbox.stopping = true }
            return !inbox.stopping
        }
        guard first else { return }
        _ = curl_multi_wakeup(lane.multi)
        if pthread_equal(pthread_self(), thread) != 0 {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }

    // MARK: The I/O thread

    private func main() {
        while true {
            let (commands, stopping) = inbox.withLock { inbox -> ([Command], Bool) in
                inbox.woken = false
                defer { inbox.commands.removeAll(keepingCapacity: true) }
                return (inbox.commands, inbox.stopping)
            }
            for command in commands { apply(command, stopping: stopping) }
            if stopping {
                run.failAll(Self.canceled)
                jobs.removeAll()
                timers.removeAll()
                // Commands posted before `stopping` was set and not yet seen.
                let late = inbox.withLock { inbox -> [Command] in
                    defer { inbox.commands.removeAll() }
                    return inbox.commands
                }
                for command in late { apply(command, stopping: true) }
                return
            }
            fireDueTimers()
            run.step(maximumWait: timerWait(), waitWhenIdle: true)
        }
    }

    private func apply(_ command: Command, stopping: Bool) {
        switch command {
        case .add(let ticket, let request, let policy, let parallel, let completion):
            if stopping {
                completion(Exchange(outcome: .failure(Self.canceled), attempts: 0))
                return
            }
            run.setParallel(parallel)
            jobs[ticket] = run.add(request, policy: policy) { [unowned self] exchange in
                jobs[ticket] = nil
                completion(exchange)
            }
        case .cancel(let ticket):
            if let id = jobs.removeValue(forKey: ticket) {
                run.cancel(id, with: Self.canceled)
            }
            timers.removeAll { $0.ticket == ticket }
        case .timer(let ticket, let at, let action):
            if !stopping { timers.append((ticket, at, action)) }
        }
    }

    private func fireDueTimers() {
        guard !timers.isEmpty else { return }
        let now = Deadline.now()
        let due = timers.filter { $0.at <= now }
        guard !due.isEmpty else { return }
        timers.removeAll { $0.at <= now }
        for timer in due { timer.action() }
    }

    /// Until the earliest timer (the run bounds the wait by its own needs).
    private func timerWait() -> Int64 {
        let now = Deadline.now()
        return timers.reduce(Int64.max) { min($0, max(0, $1.at - now)) }
    }
}
