import CCurl
import Synchronization

/// `membrane_client_cancel` for one client's transfers.
///
/// Each call notes the generation when it starts; cancelling moves the
/// generation on, so calls already running see a change and stop, while calls
/// started afterwards do not. Every call in flight waits in `curl_multi_poll`
/// on its lane, and `curl_multi_wakeup` (safe from any thread) interrupts that
/// wait at once.
final class Cancellation: Sendable {
    struct Ticket: Sendable {
        fileprivate let generation: UInt64
    }

    private let generation = Atomic<UInt64>(0)
    /// Lanes in use now, by identity.
    private let active = Locked<[ObjectIdentifier: CurlLane]>([:])

    func ticket() -> Ticket {
        Ticket(generation: generation.load(ordering: .acquiring))
    }

    func isCancelled(_ ticket: Ticket) -> Bool {
        generation.load(ordering: .acquiring) != ticket.generation
    }

    func cancelAll() {
        generation.add(1, ordering: .releasing)
        active.withLock { lanes in
            for lane in lanes.values {
                _ = curl_multi_wakeup(lane.multi)
            }
        }
    }

    /// Runs `body` with `lane` reachable by `cancelAll`.
    func tracking<Result>(_ lane: CurlLane, _ body: () -> Result) -> Result {
        active.withLock { $0[ObjectIdentifier(lane)] = lane }
        defer { _ = active.withLock { $0.removeValue(forKey: ObjectIdentifier(lane)) } }
        return body()
    }
}
