#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Idle lanes, shared by the threads that use one client.
///
/// The lock covers only taking and returning a lane, never a transfer, so
/// threads run their requests in parallel, each in its own lane. A thread
/// gets back the lane it used last when that one is idle, else the most
/// recently returned one: a single-threaded caller stays on one warm
/// connection, and threads sharing a client stop trading lanes. Trading
/// them costs more than the connection: libcurl frees on one thread what it
/// allocated on another, and glibc's malloc then locks the other thread's
/// arena (two threads measured 1.5x one thread's rate, the floor 1.9x).
final class LanePool: Sendable {
    private struct Idle {
        let lane: CurlLane
        /// The thread that returned it.
        let thread: pthread_t
    }

    private let idle = Locked<[Idle]>([])

    func acquire() throws(MembraneError) -> CurlLane {
        let current = pthread_self()
        let lane = idle.withLock { idle -> CurlLane? in
            guard !idle.isEmpty else { return nil }
            let index = idle.lastIndex { pthread_equal($0.thread, current) != 0 } ?? idle.count - 1
            return idle.remove(at: index).lane
        }
        if let lane { return lane }
        return try CurlLane()
    }

    func release(_ lane: CurlLane) {
        let current = pthread_self()
        idle.withLock { $0.append(Idle(lane: lane, thread: current)) }
    }
}
