import CCurl

/// One libcurl easy handle, the error buffer it writes into, and the options
/// every request shares.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Whether the options every request shares are set, and with which CA
    /// file: a handle keeps its options between transfers, so only what
    /// differs per request is set again (lookups are hot).
    private var sharedOptionsSet = false
    private var caFile: String?
    /// What the previous transfer set, so a repeated lookup (the hot path)
    /// does not make libcurl copy the same strings again.
    private var lastURL: String?
    private var lastUserAgent: String?

    init() throws(MembraneError) {
        guard let handle = CurlGlobal.creatingHandle(curl_easy_init) else {
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

    /// Sets the handle up for one attempt of `request`, writing into `sink`.
    func prepare(for request: TransportRequest, deadline: Deadline, sink: ResponseSink) {
        errorBuffer[0] = 0
        if !sharedOptionsSet || caFile != request.caFile {
            setSharedOptions(caFile: request.caFile)
        }
        if lastURL != request.url {
            _ = mbcurl_setopt_string(handle, CURLOPT_URL, request.url)
            lastURL = request.url
        }
        // Setting the header list only stores a pointer: cheap, and always done.
        _ = mbcurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(request.headers.list))
        if lastUserAgent != request.userAgent {
            _ = mbcurl_setopt_string(handle, CURLOPT_USERAGENT, request.userAgent)
            lastUserAgent = request.userAgent
        }
        // This attempt may use what is left of the whole call's time, no more.
        let remaining = max(1, deadline.remaining)
        _ = mbcurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, remaining)
        _ = mbcurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(request.connectTimeoutMilliseconds, remaining))
        let context = Unmanaged.passUnretained(sink).toOpaque()
        _ = mbcurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        _ = mbcurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        request.canned?.install(on: handle)
    }

    /// From libcurl's defaults (live connections and caches stay) to the
    /// options every request shares.
    private func setSharedOptions(caFile: String?) {
        curl_easy_reset(handle)
        lastURL = nil
        lastUserAgent = nil
        _ = mbcurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
        _ = mbcurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = mbcurl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        // The selector is already one encoded segment; keep curl from touching it.
        _ = mbcurl_setopt_long(handle, CURLOPT_PATH_AS_IS, 1)
        // The token must not travel to another origin: redirects are reported, not followed.
        _ = mbcurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        // "" offers every encoding this libcurl can decode (gzip, deflate, ...).
        _ = mbcurl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        // Signals are the host's; without this, timeouts on threads are unsafe.
        _ = mbcurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = mbcurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        _ = mbcurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        _ = mbcurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        // Without a CA file of ours, libcurl's default bundle (reset restores it).
        if let caFile {
            _ = mbcurl_setopt_string(handle, CURLOPT_CAINFO, caFile)
        }
        _ = mbcurl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, writeBody)
        _ = mbcurl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, writeHeader)
        self.caFile = caFile
        sharedOptionsSet = true
    }

    /// libcurl's detailed text for the last failure, or "".
    var errorText: String {
        String(cString: errorBuffer).trimmingWhitespace()
    }
}

/// libcurl's write callbacks (body and header): returning less than they
/// were given aborts the transfer.
private let writeBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    deliver($0, $1, $2, $3) { sink, bytes in sink.append(bytes) }
}

private let writeHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    deliver($0, $1, $2, $3) { sink, bytes in sink.header(bytes) }
}

/// Hands `size * count` bytes to the transfer's sink; what libcurl expects back.
private func deliver(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                     _ context: UnsafeMutableRawPointer?,
                     _ accept: (ResponseSink, UnsafeRawBufferPointer) -> Bool) -> Int {
    guard let data, let context else { return 0 }
    let (length, overflow) = size.multipliedReportingOverflow(by: count)
    guard !overflow else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    return accept(sink, UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}
