/// Idle easy handles, shared by the threads that use one client.
///
/// The lock covers only taking and returning a handle, never a transfer, so
/// threads run their requests in parallel. Handles are reused last-in first-out,
/// which keeps a single-threaded caller on one warm connection.
final class HandlePool: Sendable {
    private let idle = Locked<[CurlHandle]>([])

    func acquire() throws(MembraneError) -> CurlHandle {
        if let handle = idle.withLock({ $0.popLast() }) {
            return handle
        }
        return try CurlHandle()
    }

    func release(_ handle: CurlHandle) {
        idle.withLock { $0.append(handle) }
    }
}
