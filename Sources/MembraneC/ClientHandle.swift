import Membrane

/// The object behind a `membrane_client *`: a retained ``MembraneClient``.
enum ClientHandle {
    static func make(_ client: MembraneClient) -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(client).toOpaque())
    }

    /// The client behind a handle. Borrowed: valid until `membrane_client_free`.
    static func client(_ handle: OpaquePointer) -> MembraneClient {
        Unmanaged<MembraneClient>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    static func free(_ handle: OpaquePointer) {
        Unmanaged<MembraneClient>.fromOpaque(UnsafeRawPointer(handle)).release()
    }
}
