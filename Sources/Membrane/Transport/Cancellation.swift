import CCurl
import Synchronization

/// `membrane_client_cancel` for one client's transfers.
///
/// Each call notes the generation when it starts; cancelling moves the
/// generation on, so calls already running see a change and stop, while calls
/// started afterwards do not. Every transfer or wait in flight sits in
/// `curl_multi_poll` on its handle's multi, and `curl_multi_wakeup` (safe from
/// any thread) interrupts that wait at once.
final class Cancellation: Sendable {
    struct Ticket: Sendable {
        fileprivate let generation: UInt64
    }

    private let generation = Atomic<UInt64>(0)
    /// Handles that are transferring or waiting now, by identity.
    private let active = Locked<[ObjectIdentifier: CurlHandle]>([:])

    func ticket() -> Ticket {
        Ticket(generation: generation.load(ordering: .acquiring))
    }

    func isCancelled(_ ticket: Ticket) -> Bool {
        generation.load(ordering: .acquiring) != ticket.generation
    }

    func cancelAll() {
        generation.add(1, ordering: .releasing)
        active.withLock { handles in
            for handle in handles.values {
                _ = curl_multi_wakeup(handle.multi)
            }
        }
    }

    /// Runs `body` with `handle` reachable by `cancelAll`.
    func tracking<Result>(_ handle: CurlHandle, _ body: () throws(TransportFailure) -> Result) throws(TransportFailure) -> Result {
        active.withLock { $0[ObjectIdentifier(handle)] = handle }
        defer { _ = active.withLock { $0.removeValue(forKey: ObjectIdentifier(handle)) } }
        return try body()
    }
}
