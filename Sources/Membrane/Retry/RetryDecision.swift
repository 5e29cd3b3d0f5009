extension RetryPolicy {
    /// How long to wait before attempt `attempt + 1`, or nil when `outcome` is
    /// final: not retryable, or retries used up. The caller also ends the
    /// request when the wait would reach past its deadline.
    func wait(after outcome: TransferOutcome, attempt: Int) -> Int? {
        guard attempt <= maximumRetries else { return nil }
        switch outcome {
        case .response(let response):
            guard Self.retryableStatuses.contains(response.status) else { return nil }
            // The server's word beats our guess.
            return RetryAfter.milliseconds(response.retryAfter) ?? backoffMilliseconds(beforeRetry: attempt)
        case .failure(let failure):
            return failure.isRetryable ? backoffMilliseconds(beforeRetry: attempt) : nil
        }
    }
}
