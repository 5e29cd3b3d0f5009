/// Idle lanes, shared by the threads that use one client.
///
/// The lock covers only taking and returning a lane, never a transfer, so
/// threads run their requests in parallel, each in its own lane. Lanes are
/// reused last-in first-out, which keeps a single-threaded caller on one warm
/// connection.
final class LanePool: Sendable {
    private let idle = Locked<[CurlLane]>([])

    func acquire() throws(MembraneError) -> CurlLane {
        if let lane = idle.withLock({ $0.popLast() }) {
            return lane
        }
        return try CurlLane()
    }

    func release(_ lane: CurlLane) {
        idle.withLock { $0.append(lane) }
    }
}
