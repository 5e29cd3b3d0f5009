import CCurl

/// One libcurl easy handle and the error buffer it writes into.
///
/// An easy handle keeps its connections alive between transfers; the pool
/// hands each one to a single thread at a time.
final class CurlHandle: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() throws(MembraneError) {
        guard let easy = curl_easy_init() else {
            throw MembraneError(code: .internal, message: "libcurl could not create a handle")
        }
        self.easy = easy
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(easy)
        errorBuffer.deallocate()
    }

    /// Clears the previous transfer's options, keeping live connections and
    /// caches, and points libcurl's error text at this handle's buffer.
    func reset() {
        curl_easy_reset(easy)
        errorBuffer[0] = 0
        _ = mbcurl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
    }

    /// libcurl's detailed text for the last failure, or "".
    var errorText: String {
        String(cString: errorBuffer).trimmingWhitespace()
    }
}
