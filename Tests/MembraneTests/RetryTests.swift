import Testing
@testable import Membrane

@Suite("Retries, deadlines and cancellation")
struct RetryTests {
    /// Milliseconds `body` took.
    func elapsed(_ body: () -> Void) -> Int64 {
        let start = Deadline.now()
        body()
        return Deadline.now() - start
    }

    @Test("503 twice, then the integration: three requests, success")
    func recoversAfterTwo503s() async throws {
        let selector = "hubspot"
        let before = try await MockServer.requestCount(selector: selector)
        // Matching on a fixture's key, so the third request finds it; no other test faults hubspot.
        try await MockServer.addFault(["match": selector, "status": 503, "times": 2])
        let client = try MockServer.client()
        try client.setRetryBase(milliseconds: 10)
        let integration = try client.integration(selector)
        #expect(integration.key == "hubspot")
        #expect(try await MockServer.requestCount(selector: selector) - before >= 3)
    }

    @Test("retries run out: the last error, and the message counts the attempts")
    func exhausted() async throws {
        let selector = "retry-exhausted"
        try await MockServer.addFault(["match": selector, "status": 503, "times": 0])
        let client = try MockServer.client()
        try client.setRetryBase(milliseconds: 5)
        let error = try #require(lookupError(client, selector))
        #expect(error.code == .server)
        #expect(error.httpStatus == 503)
        #expect(error.message.hasSuffix("(after 3 attempts)"), "\(error.message)")
        #expect(try await MockServer.requestCount(selector: selector) == 3)
    }

    @Test("never retried: 400, 401, 403, 404, 500", arguments: [400, 401, 403, 404, 500])
    func notRetried(status: Int) async throws {
        let selector = "no-retry-\(status)"
        try await MockServer.addFault(["match": selector, "status": status, "times": 0])
        let error = try #require(lookupError(try MockServer.client(), selector))
        #expect(error.httpStatus == status)
        #expect(!error.message.contains("attempts"))
        #expect(try await MockServer.requestCount(selector: selector) == 1)
    }

    @Test("Retry-After in seconds is honoured")
    func retryAfterSeconds() async throws {
        let selector = "retry-after-seconds"
        try await MockServer.addFault(["match": selector, "status": 429, "headers": ["Retry-After": "1"]])
        let client = try MockServer.client()
        try client.setRetryBase(milliseconds: 1)
        var error: MembraneError?
        let took = elapsed { error = lookupError(client, selector) }
        #expect(error?.code == .notFound, "the retry reaches the (absent) integration")
        #expect(took >= 950 && took < 3000, "took \(took) ms")
        #expect(try await MockServer.requestCount(selector: selector) == 2)
    }

    @Test("a Retry-After beyond the deadline ends the call at once")
    func retryAfterBeyondDeadline() async throws {
        let selector = "retry-after-late"
        try await MockServer.addFault(["match": selector, "status": 429, "headers": ["Retry-After": "120"]])
        let client = try MockServer.client()
        try client.setTimeout(milliseconds: 2000)
        var error: MembraneError?
        let took = elapsed { error = lookupError(client, selector) }
        #expect(error?.code == .rateLimited)
        #expect(took < 500, "took \(took) ms")
        #expect(try await MockServer.requestCount(selector: selector) == 1)
    }

    @Test("the deadline bounds the whole call, retries and waits included")
    func deadlineBoundsRetries() async throws {
        let selector = "retry-deadline"
        try await MockServer.addFault(["match": selector, "status": 503, "delayMs": 300, "times": 0])
        let client = try MockServer.client()
        try client.setTimeout(milliseconds: 500)
        try client.setMaximumRetries(10)
        try client.setRetryBase(milliseconds: 50)
        var error: MembraneError?
        let took = elapsed { error = lookupError(client, selector) }
        #expect(error?.code == .timeout || error?.code == .server, "\(String(describing: error))")
        #expect(took < 500 + 150, "took \(took) ms")
    }

    @Test("cancel from another thread ends a call waiting on a slow server")
    func cancel() async throws {
        let selector = "cancel-slow"
        try await MockServer.addFault(["match": selector, "delayMs": 5000])
        let client = try MockServer.client()
        async let outcome: (MembraneError?, Int64) = {
            let start = Deadline.now()
            let error = lookupError(client, selector)
            return (error, Deadline.now() - start)
        }()
        try await Task.sleep(for: .milliseconds(300))
        let cancelledAt = Deadline.now()
        client.cancel()
        let (error, took) = await outcome
        #expect(error?.code == .canceled)
        #expect(took < 300 + 1000, "took \(took) ms")
        #expect(Deadline.now() - cancelledAt < 1000)
        // The client works again afterwards.
        #expect(try client.integration("salesforce").key == "salesforce")
    }

    @Test("backoff stays within full-jitter bounds and the 8 s cap")
    func backoffBounds() {
        let policy = RetryPolicy(maximumRetries: 10, baseMilliseconds: 250)
        for retry in 1...12 {
            let ceiling = min(8_000, 250 << (retry - 1))
            let waits = (0..<200).map { _ in policy.backoffMilliseconds(beforeRetry: retry) }
            #expect(waits.allSatisfy { (0...ceiling).contains($0) })
            #expect(Set(waits).count > 1, "jitter varies the wait")
        }
        #expect(RetryPolicy(baseMilliseconds: Int.max).backoffMilliseconds(beforeRetry: 40) <= 8_000)
    }

    @Test("Retry-After: seconds, HTTP dates, garbage")
    func retryAfterParsing() {
        #expect(RetryAfter.milliseconds("3") == 3000)
        #expect(RetryAfter.milliseconds(" 0 ") == 0)
        #expect(RetryAfter.milliseconds(nil) == nil)
        #expect(RetryAfter.milliseconds("soon") == nil)
        #expect(RetryAfter.milliseconds("-5") == nil)
        #expect(RetryAfter.milliseconds("99999999999999999999") == Int.max)
        #expect(RetryAfter.milliseconds("Sun, 06 Nov 1994 08:49:37 GMT") == 0, "a past date means now")
        let future = RetryAfter.milliseconds("Fri, 31 Dec 2100 23:59:59 GMT")
        #expect((future ?? 0) > 1_000_000)
    }
}
