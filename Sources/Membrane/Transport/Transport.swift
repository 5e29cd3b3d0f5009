import CCurl

/// HTTP GET over libcurl, with kept-alive connections.
///
/// It knows nothing of integrations: it returns whatever status and body the
/// server sent, and throws only when no complete response arrived.
final class Transport: Sendable {
    private let pool = HandlePool()

    init() throws(MembraneError) {
        try CurlGlobal.ensureInitialized()
    }

    func get(_ request: TransportRequest) throws(MembraneError) -> HTTPResponse {
        let handle = try pool.acquire()
        defer { pool.release(handle) }
        handle.reset()
        let sink = ResponseSink(limit: request.maximumResponseBytes)
        let result: CURLcode = withExtendedLifetime(sink) {
            configure(handle.easy, for: request, sink: sink)
            return curl_easy_perform(handle.easy)
        }
        guard result == CURLE_OK else {
            if sink.exceededLimit {
                throw MembraneError(code: .protocolError,
                                    message: "the response is larger than the limit of \(request.maximumResponseBytes) bytes")
            }
            throw CurlErrorMapping.error(for: result, detail: handle.errorText)
        }
        var status = 0
        _ = mbcurl_getinfo_long(handle.easy, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, body: sink.body, contentType: sink.contentType,
                            location: sink.location, retryAfter: sink.retryAfter)
    }

    private func configure(_ easy: UnsafeMutableRawPointer, for request: TransportRequest, sink: ResponseSink) {
        _ = mbcurl_setopt_string(easy, CURLOPT_URL, request.url)
        _ = mbcurl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = mbcurl_setopt_long(easy, CURLOPT_HTTPGET, 1)
        // The selector is already one encoded segment; keep curl from touching it.
        _ = mbcurl_setopt_long(easy, CURLOPT_PATH_AS_IS, 1)
        // The token must not travel to another origin: redirects are reported, not followed.
        _ = mbcurl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        _ = mbcurl_setopt_pointer(easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(request.headers.list))
        _ = mbcurl_setopt_string(easy, CURLOPT_USERAGENT, request.userAgent)
        // "" offers every encoding this libcurl can decode (gzip, deflate, ...).
        _ = mbcurl_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "")
        _ = mbcurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds)
        _ = mbcurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)
        // Signals are the host's; without this, timeouts on threads are unsafe.
        _ = mbcurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = mbcurl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = mbcurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = mbcurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = request.caFile {
            _ = mbcurl_setopt_string(easy, CURLOPT_CAINFO, caFile)
        }
        let context = Unmanaged.passUnretained(sink).toOpaque()
        _ = mbcurl_setopt_write_function(easy, CURLOPT_WRITEFUNCTION, writeBody)
        _ = mbcurl_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        _ = mbcurl_setopt_write_function(easy, CURLOPT_HEADERFUNCTION, writeHeader)
        _ = mbcurl_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
    }
}

/// libcurl's write callback: returning less than it was given aborts the transfer.
private let writeBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    guard let data, let context else { return 0 }
    let (length, overflow) = size.multipliedReportingOverflow(by: count)
    guard !overflow else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    return sink.append(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private let writeHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    guard let data, let context else { return 0 }
    let (length, overflow) = size.multipliedReportingOverflow(by: count)
    guard !overflow else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    return sink.header(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}
