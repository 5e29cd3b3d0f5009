import CCurl

/// HTTP GETs over libcurl, with kept-alive connections, retries, a deadline
/// per request, a size limit and cancellation.
///
/// It knows nothing of integrations: it returns whatever status and body the
/// server finally sent, and fails a request only when no complete response
/// arrived.
final class Transport: Sendable {
    private let pool = LanePool()
    let cancellation = Cancellation()

    init() throws(MembraneError) {
        try CurlGlobal.ensureInitialized()
    }

    /// One GET.
    func perform(_ request: TransportRequest, policy: RetryPolicy) throws(MembraneError) -> Exchange {
        try perform([request], parallel: 1, policy: policy)[0].get()
    }

    /// Several GETs, at most `parallel` at once; results in the order of `requests`.
    func perform(_ requests: [TransportRequest], parallel: Int,
                 policy: RetryPolicy) -> [Result<Exchange, MembraneError>] {
        guard !requests.isEmpty else { return [] }
        let ticket = cancellation.ticket()
        let lane: CurlLane
        let run: TransferRun
        do throws(MembraneError) {
            lane = try pool.acquire()
            run = try TransferRun(lane: lane, requests: requests, parallel: parallel, policy: policy,
                                  configure: Transport.configure)
        } catch {
            return requests.map { _ in .failure(error) }
        }
        defer { pool.release(lane) }
        return cancellation.tracking(lane) {
            run.run(until: { cancellation.isCancelled(ticket) })
        }
    }

    private static func configure(_ easy: UnsafeMutableRawPointer, _ request: TransportRequest,
                                  _ deadline: Deadline, _ sink: ResponseSink) {
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
