import Membrane

@_cdecl("membrane_version")
public func membrane_version() -> UnsafePointer<CChar> {
    UnsafeRawPointer(MembraneVersion.string.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("membrane_strerror")
public func membrane_strerror(_ code: Int32) -> UnsafePointer<CChar> {
    let text: StaticString
    if code == 0 {
        text = "success"
    } else if let known = MembraneError.Code(rawValue: code) {
        text = known.summary
    } else {
        text = "unknown error code"
    }
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("membrane_version_num")
public func membrane_version_num() -> UInt32 {
    MembraneVersion.number
}
