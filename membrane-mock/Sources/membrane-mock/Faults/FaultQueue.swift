import Synchronization

/// FIFO of pending faults, shared by all connections.
final class FaultQueue: Sendable {
    private let faults = Mutex<[Fault]>([])

    func append(_ new: [Fault]) -> Int {
        faults.withLock { faults in
            faults.append(contentsOf: new)
            return faults.count
        }
    }

    /// Takes the first fault that applies to this request, using up one of its
    /// `times` (a fault with `times` 0 stays forever). Atomic, so concurrent requests
    /// never share a one-shot fault.
    func consume(selector: String) -> Fault? {
        faults.withLock { faults in
            guard let index = faults.firstIndex(where: { $0.matches(selector: selector) }) else { return nil }
            let fault = faults[index]
            switch fault.times {
            case 0: break
            case 1: faults.remove(at: index)
            default: faults[index].times -= 1
            }
            return fault
        }
    }

    func pending() -> [Fault] {
        faults.withLock { $0 }
    }

    /// Returns how many faults were dropped.
    func clear() -> Int {
        faults.withLock { faults in
            defer { faults.removeAll() }
            return faults.count
        }
    }
}
