import CCurl

/// libcurl's process-wide set-up, done once, the first time a client is made
/// (Swift runs a global's initializer exactly once, even when threads race).
enum CurlGlobal {
    /// libcurl's global init, and the lock below, made together: both exist
    /// before `ensureInitialized` returns to the first client's maker, so no
    /// thread sharing that client ever sees them half made. (A lock made
    /// lazily by racing threads was flagged by ThreadSanitizer, which cannot
    /// see the runtime's once.)
    /// The lock guards the count of handles made (a Void value would share
    /// its zero-size address with the lock's own field, which ThreadSanitizer
    /// then reports as a Swift access race).
    private static let state: (initialized: Bool, handleCreation: Locked<Int>) =
        (curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK, Locked(0))

    static func ensureInitialized() throws(MembraneError) {
        guard state.initialized else {
            throw MembraneError(code: .internal, message: "libcurl could not be initialised")
        }
    }

    /// Serialises the creation of libcurl handles. curl_easy_init (also
    /// called by curl_multi_init) takes libcurl's global spin lock, built on
    /// C11 atomics that valgrind's helgrind and DRD cannot see: concurrent
    /// first lookups were reported as races inside libcurl. Handles are made
    /// once per lane and kept, so the lock costs nothing on the hot path.
    static func creatingHandle<Handle>(_ make: () -> Handle?) -> Handle? {
        state.handleCreation.withLock { made in
            made += 1
            return make()
        }
    }
}
