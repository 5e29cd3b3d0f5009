import Membrane

/// The object behind a `membrane_client *`: the ``MembraneClient`` and the
/// queue its requests started without blocking finish into.
final class ClientHandle {
    let client: MembraneClient
    let completions = CompletionQueue()

    private init(_ client: MembraneClient) {
        self.client = client
    }

    static func make(_ client: MembraneClient) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(ClientHandle(client)).toOpaque())
    }

    /// The handle's object. Borrowed: valid until `membrane_client_free`.
    static func handle(_ handle: OpaquePointer) -> ClientHandle {
        Unmanaged<ClientHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    /// The client behind a handle. Borrowed: valid until `membrane_client_free`.
    static func client(_ handle: OpaquePointer) -> MembraneClient {
        Self.handle(handle).client
    }

    /// Ends the requests started without blocking (delivering every
    /// callback on this thread), stops the I/O thread, then releases.
    static func free(_ handle: OpaquePointer) {
        let object = Unmanaged<ClientHandle>.fromOpaque(UnsafeRawPointer(handle))
        let box = object.takeUnretainedValue()
        box.client.stopRequests()
        box.completions.drainAndClose()
        object.release()
    }
}
