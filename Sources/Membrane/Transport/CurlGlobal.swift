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
}
