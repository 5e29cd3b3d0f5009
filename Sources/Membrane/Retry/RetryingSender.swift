/// Sends one GET through a transport, retrying by a ``RetryPolicy`` within
/// one deadline for the whole call.
struct RetryingSender {
    let transport: Transport
    let policy: RetryPolicy

    /// The final answer and how many attempts it took.
    struct Exchange {
        var response: HTTPResponse
        var attempts: Int
    }

    private enum Outcome {
        case response(HTTPResponse)
        case failure(TransportFailure)
    }

    func send(_ request: TransportRequest, deadline: Deadline) throws(MembraneError) -> Exchange {
        let ticket = transport.cancellation.ticket()
        var attempts = 0
        while true {
            attempts += 1
            let outcome: Outcome
            do {
                outcome = .response(try transport.get(request, deadline: deadline, ticket: ticket))
            } catch {
                outcome = .failure(error)
            }
            guard attempts <= policy.maximumRetries, let wait = waitBeforeRetry(after: outcome, retry: attempts),
                  wait < deadline.remaining else {
                return try finish(outcome, attempts: attempts)
            }
            do {
                try transport.pause(milliseconds: wait, ticket: ticket)
            } catch {
                throw error.error
            }
        }
    }

    /// How long to wait before trying again, or nil if this outcome is final.
    private func waitBeforeRetry(after outcome: Outcome, retry: Int) -> Int? {
        switch outcome {
        case .response(let response):
            guard RetryPolicy.retryableStatuses.contains(response.status) else { return nil }
            // The server's word beats our guess; one beyond the deadline ends the call.
            return RetryAfter.milliseconds(response.retryAfter) ?? policy.backoffMilliseconds(beforeRetry: retry)
        case .failure(let failure):
            return failure.isRetryable ? policy.backoffMilliseconds(beforeRetry: retry) : nil
        }
    }

    private func finish(_ outcome: Outcome, attempts: Int) throws(MembraneError) -> Exchange {
        switch outcome {
        case .response(let response):
            return Exchange(response: response, attempts: attempts)
        case .failure(let failure):
            throw failure.error.noting(attempts: attempts)
        }
    }
}

extension MembraneError {
    /// The same error, its message saying how many attempts were made when
    /// there was more than one.
    func noting(attempts: Int) -> MembraneError {
        guard attempts > 1 else { return self }
        var error = self
        error.message += " (after \(attempts) attempts)"
        return error
    }
}
