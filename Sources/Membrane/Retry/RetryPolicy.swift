/// When a lookup is tried again, and how long to wait first.
///
/// Only GETs are sent, so a retry never repeats a side effect. Retried: 429,
/// 502, 503, 504, and connections that failed before any response byte.
/// Never retried: other statuses (400, 401, 403, 404, 500, ...), timeouts,
/// TLS and protocol errors: trying again would only fail again, later.
struct RetryPolicy: Sendable {
    static let defaultMaximumRetries = 2
    static let maximumRetriesLimit = 10
    static let defaultBaseMilliseconds = 250
    static let capMilliseconds = 8_000

    var maximumRetries = defaultMaximumRetries
    var baseMilliseconds = defaultBaseMilliseconds

    static let retryableStatuses: Set<Int> = [429, 502, 503, 504]

    /// Exponential backoff with full jitter: a uniform wait in
    /// [0, min(cap, base × 2^(retry − 1))], so clients that failed together
    /// do not come back together.
    func backoffMilliseconds(beforeRetry retry: Int) -> Int {
        let exponent = min(max(retry - 1, 0), 30)
        let (scaled, overflow) = baseMilliseconds.multipliedReportingOverflow(by: 1 << exponent)
        let ceiling = overflow ? Self.capMilliseconds : min(Self.capMilliseconds, scaled)
        return Int.random(in: 0...max(0, ceiling))
    }
}
