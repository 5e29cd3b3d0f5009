import CCurl

/// libcurl's process-wide set-up, done once, the first time a client is made.
/// Swift runs a global's initializer exactly once, even when threads race.
enum CurlGlobal {
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    static func ensureInitialized() throws(MembraneError) {
        guard initialized else {
            throw MembraneError(code: .internal, message: "libcurl could not be initialised")
        }
    }

    /// Serialises the creation of libcurl handles. curl_easy_init (also
    /// called by curl_multi_init) takes libcurl's global spin lock, built on
    /// C11 atomics that valgrind's helgrind and DRD cannot see: concurrent
    /// first lookups were reported as races inside libcurl. Handles are made
    /// once per lane and kept, so the lock costs nothing on the hot path.
    private static let handleCreation = Locked(())

    static func creatingHandle<Handle>(_ make: () -> Handle?) -> Handle? {
        handleCreation.withLock { _ in make() }
    }
}
