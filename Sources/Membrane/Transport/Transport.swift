import CCurl

/// HTTP GET over libcurl, with kept-alive connections, a deadline, a size
/// limit and cancellation.
///
/// It knows nothing of integrations or retries: it returns whatever status
/// and body the server sent, and fails only when no complete response arrived.
final class Transport: Sendable {
    private let pool = HandlePool()
    let cancellation = Cancellation()

    /// How long one wait in `curl_multi_poll` may last before the deadline and
    /// cancellation are checked again (a wakeup also ends it at once).
    private static let pollSliceMilliseconds = 1000

    init() throws(MembraneError) {
        try CurlGlobal.ensureInitialized()
    }

    func get(_ request: TransportRequest, deadline: Deadline,
             ticket: Cancellation.Ticket) throws(TransportFailure) -> HTTPResponse {
        let handle = try acquire()
        defer { pool.release(handle) }
        handle.reset()
        let sink = ResponseSink(limit: request.maximumResponseBytes)
        let result = try withExtendedLifetime(sink) { () throws(TransportFailure) -> CURLcode in
            configure(handle.easy, for: request, deadline: deadline, sink: sink)
            return try cancellation.tracking(handle) { () throws(TransportFailure) -> CURLcode in
                try run(handle, deadline: deadline, ticket: ticket)
            }
        }
        guard result == CURLE_OK else {
            if sink.exceededLimit {
                throw TransportFailure(error: MembraneError(
                    code: .protocolError,
                    message: "the response is larger than the limit of \(request.maximumResponseBytes) bytes"),
                    isRetryable: false)
            }
            let error = CurlErrorMapping.error(for: result, detail: handle.errorText)
            throw TransportFailure(error: error,
                                   isRetryable: !sink.receivedAnything && CurlErrorMapping.isConnectionFailure(result))
        }
        var status = 0
        _ = mbcurl_getinfo_long(handle.easy, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, body: sink.body, contentType: sink.contentType,
                            location: sink.location, retryAfter: sink.retryAfter)
    }

    /// Waits `milliseconds` (between retries), ending early if cancelled.
    func pause(milliseconds: Int, ticket: Cancellation.Ticket) throws(TransportFailure) {
        let handle = try acquire()
        defer { pool.release(handle) }
        let until = Deadline(after: milliseconds)
        try cancellation.tracking(handle) { () throws(TransportFailure) in
            while !until.hasPassed {
                try checkCancelled(ticket)
                _ = curl_multi_poll(handle.multi, nil, 0, Int32(min(until.remaining, Self.pollSliceMilliseconds)), nil)
            }
            try checkCancelled(ticket)
        }
    }

    private func acquire() throws(TransportFailure) -> CurlHandle {
        do {
            return try pool.acquire()
        } catch {
            throw TransportFailure(error: error, isRetryable: false)
        }
    }

    private func checkCancelled(_ ticket: Cancellation.Ticket) throws(TransportFailure) {
        if cancellation.isCancelled(ticket) {
            throw TransportFailure(error: MembraneError(code: .canceled, message: "the call was cancelled"),
                                   isRetryable: false)
        }
    }

    /// Drives one transfer to its end in the handle's multi, on this thread.
    private func run(_ handle: CurlHandle, deadline: Deadline,
                     ticket: Cancellation.Ticket) throws(TransportFailure) -> CURLcode {
        guard curl_multi_add_handle(handle.multi, handle.easy) == CURLM_OK else {
            throw TransportFailure(error: MembraneError(code: .internal, message: "libcurl refused the transfer"),
                                   isRetryable: false)
        }
        defer { curl_multi_remove_handle(handle.multi, handle.easy) }
        var running: Int32 = 1
        while running > 0 {
            try checkCancelled(ticket)
            guard curl_multi_perform(handle.multi, &running) == CURLM_OK else {
                throw TransportFailure(error: MembraneError(code: .internal, message: "libcurl failed to run the transfer"),
                                       isRetryable: false)
            }
            guard running > 0 else { break }
            // libcurl enforces CURLOPT_TIMEOUT_MS itself; this only bounds the wait.
            let wait = max(1, min(deadline.remaining, Self.pollSliceMilliseconds))
            _ = curl_multi_poll(handle.multi, nil, 0, Int32(wait), nil)
        }
        var queued: Int32 = 0
        while let message = curl_multi_info_read(handle.multi, &queued) {
            if message.pointee.msg == CURLMSG_DONE {
                return message.pointee.data.result
            }
        }
        throw TransportFailure(error: MembraneError(code: .internal, message: "libcurl reported no result"),
                               isRetryable: false)
    }

    private func configure(_ easy: UnsafeMutableRawPointer, for request: TransportRequest,
                           deadline: Deadline, sink: ResponseSink) {
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
        // This attempt may use what is left of the whole call's time, no more.
        let remaining = max(1, deadline.remaining)
        _ = mbcurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, remaining)
        _ = mbcurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, min(request.connectTimeoutMilliseconds, remaining))
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
