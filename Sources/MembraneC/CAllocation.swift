import CJansson

/// Memory handed to the caller, allocated with jansson's allocator so that
/// `membrane_free` releases every kind of it the same way.
enum CAllocation {
    /// A NUL-terminated copy of `bytes`, or nil when out of memory.
    static func string(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar>? {
        var allocate: json_malloc_t?
        var release: json_free_t?
        json_get_alloc_funcs(&allocate, &release)
        let size = bytes.count + 1
        guard let raw = allocate.map({ $0(size) }) ?? malloc(size) else { return nil }
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { raw.copyMemory(from: base, byteCount: source.count) }
        }
        raw.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
        return raw.assumingMemoryBound(to: CChar.self)
    }
}
