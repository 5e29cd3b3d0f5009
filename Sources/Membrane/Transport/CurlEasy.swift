import CCurl

/// One libcurl easy handle and the error buffer it writes into.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() throws(MembraneError) {
        guard let handle = curl_easy_init() else {
            throw MembraneError(code: .internal, message: "libcurl could not create a handle")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Clears the previous transfer's options (live connections and caches
    /// stay) and points libcurl's error text at this handle's buffer.
    func reset() {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        _ = mbcurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
    }

    /// libcurl's detailed text for the last failure, or "".
    var errorText: String {
        String(cString: errorBuffer).trimmingWhitespace()
    }
}
