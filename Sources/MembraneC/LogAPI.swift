import CMembrane
import Membrane

/// The C caller's payload pointer, passed back untouched: the caller is the
/// one who promised it may be used from the threads that make calls.
private struct Payload: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
}

@_cdecl("membrane_client_set_log")
public func membrane_client_set_log(
    _ handle: OpaquePointer?,
    _ callback: (@convention(c) (Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void)?,
    _ payload: UnsafeMutableRawPointer?
) -> Int32 {
    guard let handle else { return Int32(MEMBRANE_EINVAL) }
    let client = ClientHandle.client(handle)
    guard let callback else {
        client.setLogHandler(nil)
        return Int32(MEMBRANE_OK)
    }
    let payload = Payload(pointer: payload)
    client.setLogHandler { level, line in
        line.withCString { callback(level.rawValue, $0, payload.pointer) }
    }
    return Int32(MEMBRANE_OK)
}
