import CJansson

@_cdecl("membrane_json_release")
public func membrane_json_release(_ value: UnsafeMutablePointer<CJansson.json_t>?) {
    guard let value else { return }
    json_decref(value)
}

@_cdecl("membrane_json_dumps")
public func membrane_json_dumps(_ value: UnsafePointer<CJansson.json_t>?, _ flags: Int) -> UnsafeMutablePointer<CChar>? {
    guard let value else { return nil }
    return json_dumps(value, flags)
}

@_cdecl("membrane_free")
public func membrane_free(_ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    // json_dumps allocates with jansson's allocator; free with its partner.
    var allocate: json_malloc_t?
    var release: json_free_t?
    json_get_alloc_funcs(&allocate, &release)
    if let release {
        release(pointer)
    } else {
        free(pointer)
    }
}
