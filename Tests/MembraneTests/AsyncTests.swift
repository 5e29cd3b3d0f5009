import Foundation
import Synchronization
import Testing
import CJansson
@testable import Membrane

/// The lookups that do not block: `fetch…` (Swift concurrency) and the
/// `start…` methods with completions, against the stand-in server.
@Suite("Lookups without blocking")
struct AsyncTests {
    /// Milliseconds since `start`.
    func elapsed(since start: ContinuousClock.Instant) -> Int {
        let duration = ContinuousClock.now - start
        return Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    @Test("fetchIntegration gives what the blocking lookup gives")
    func sameAsBlocking() async throws {
        let client = try MockServer.client()
        for selector in ["hubspot", "salesforce", "~search.membrane--getmembrane_com"] {
            let fetched = try await client.fetchIntegration(selector)
            let blocking = try client.integration(selector)
            #expect(fetched.key == blocking.key)
            #expect(json_equal(fetched.json.pointer, blocking.json.pointer) == 1)
            let text = try await client.fetchIntegrationText(selector)
            #expect(text == (try client.integrationText(selector)))
        }
        await #expect(throws: MembraneError.self) { _ = try await client.fetchIntegration("no-such-integration") }
        do {
            _ = try await client.fetchIntegration("no-such-integration")
        } catch {
            #expect(error.code == .notFound && error.httpStatus == 404)
        }
    }

    @Test("batch and page without blocking equal the blocking ones")
    func batchAndPage() async throws {
        let client = try MockServer.client()
        let selectors = ["hubspot", "", "salesforce", "hubspot", "no-such-integration"]
        let fetched = await client.fetchIntegrations(selectors)
        let blocking = client.integrations(selectors)
        #expect(fetched.count == blocking.count)
        for (one, other) in zip(fetched, blocking) {
            switch (one, other) {
            case (.success(let a), .success(let b)): #expect(json_equal(a.json.pointer, b.json.pointer) == 1)
            case (.failure(let a), .failure(let b)): #expect(a.code == b.code)
            default: Issue.record("\(one) vs \(other)")
            }
        }
        let page = try await client.fetchIntegrationsPage(query: [("limit", "2")])
        let blockingPage = try client.integrationsPage(query: [("limit", "2")])
        #expect(json_equal(page.json.pointer, blockingPage.json.pointer) == 1)
        #expect(page.items.count == 2)
    }

    @Test("cancelling the awaiting task cancels the request at once")
    func taskCancellation() async throws {
        let client = try MockServer.client()
        try await MockServer.addFault(["match": "async-swift-slow", "delayMs": 5000])
        let start = ContinuousClock.now
        let task = Task { try await client.fetchIntegration("async-swift-slow") }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        do {
            _ = try await task.value
            Issue.record("a cancelled lookup succeeded")
        } catch let error as MembraneError {
            #expect(error.code == .canceled)
        }
        #expect(elapsed(since: start) < 2000)
        // The client still works afterwards.
        #expect(try await client.fetchIntegration("hubspot").key == "hubspot")
    }

    @Test("each completion runs exactly once; cancel by id reaches only unfinished requests")
    func completionsAndCancel() async throws {
        let client = try MockServer.client()
        try await MockServer.addFault(["match": "async-swift-held", "delayMs": 5000])
        // Completions may run before start… returns: each records into its own box.
        var records: [RequestRecord] = []
        for selector in ["hubspot", "no-such-integration", "salesforce", "async-swift-held"] {
            let record = RequestRecord()
            record.id = try client.startIntegration(selector) { record.note($0.failureCode) }
            records.append(record)
        }
        let held = records[3]
        #expect(Set(records.map(\.id)).count == 4, "ids are distinct")
        // The three quick ones finish; the held one waits for its delay.
        for _ in 0..<300 where records[0..<3].contains(where: { $0.outcomes.isEmpty }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(held.outcomes.isEmpty)
        #expect(client.cancelRequest(held.id))
        #expect(held.outcomes == [.canceled], "the cancel delivers at once")
        #expect(!client.cancelRequest(held.id), "a second cancel finds nothing")
        #expect(!client.cancelRequest(records[0].id), "a finished request cannot be cancelled")
        #expect(!client.cancelRequest(999_999))
        try await Task.sleep(for: .milliseconds(100))
        #expect(records.map(\.outcomes) == [[nil], [.notFound], [nil], [.canceled]])
    }

    @Test("deadline and retries hold without blocking")
    func deadlineAndRetries() async throws {
        let client = try MockServer.client()
        try client.setTimeout(milliseconds: 300)
        try await MockServer.addFault(["match": "async-swift-late", "delayMs": 3000])
        let start = ContinuousClock.now
        do {
            _ = try await client.fetchIntegration("async-swift-late")
            Issue.record("a late answer was accepted")
        } catch {
            #expect(error.code == .timeout)
        }
        #expect(elapsed(since: start) < 1500)

        let retrying = try MockServer.client(retries: 2)
        try retrying.setRetryBase(milliseconds: 5)
        try await MockServer.addFault(["match": "hubspot-async-retry", "status": 503, "times": 2])
        do {
            _ = try await retrying.fetchIntegration("hubspot-async-retry")
        } catch {
            // Not in the fixtures: after the two 503s, the third attempt is the real 404.
            #expect(error.code == .notFound)
        }
        #expect(try await MockServer.requestCount(selector: "hubspot-async-retry") == 3)
    }

    @Test("a slow token provider blocks no thread and is asked once for many requests")
    func slowProvider() async throws {
        let client = try MockServer.client()
        let calls = Atomic<Int>(0)
        client.setTokenProvider {
            calls.add(1, ordering: .relaxed)
            Thread.sleep(forTimeInterval: 0.2)
            return .success(MockServer.token)
        }
        let keys = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<20 { group.addTask { try await client.fetchIntegration("hubspot").key } }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(keys.count == 20 && keys.allSatisfy { $0 == "hubspot" })
        #expect(calls.load(ordering: .relaxed) == 1)

        let stuck = try MockServer.client()
        try stuck.setTimeout(milliseconds: 300)
        stuck.setTokenProvider {
            Thread.sleep(forTimeInterval: 2)
            return .success(MockServer.token)
        }
        let start = ContinuousClock.now
        do {
            _ = try await stuck.fetchIntegration("hubspot")
            Issue.record("no timeout while the provider hung")
        } catch {
            #expect(error.code == .timeout)
        }
        #expect(elapsed(since: start) < 1500)
    }

    @Test("stopRequests ends what is in flight and refuses new requests")
    func stop() async throws {
        let client = try MockServer.client()
        try await MockServer.addFault(["match": "async-swift-stop", "delayMs": 5000])
        let codes = Locked<[MembraneError.Code?]>([])
        for _ in 0..<5 {
            try client.startIntegration("async-swift-stop") { result in codes.withLock { $0.append(result.failureCode) } }
        }
        let start = ContinuousClock.now
        client.stopRequests()
        #expect(elapsed(since: start) < 1000)
        #expect(codes.withLock { $0 } == Array(repeating: .canceled, count: 5))
        #expect(throws: MembraneError.self) { try client.startIntegration("hubspot") { _ in } }
        // Blocking calls still work.
        #expect(try client.integration("hubspot").key == "hubspot")
    }
}

/// One started request as a test sees it: its id (set after the start
/// returns) and every outcome its completion delivered.
final class RequestRecord: @unchecked Sendable {
    private let state = Locked<(id: UInt64, outcomes: [MembraneError.Code?])>((0, []))
    var id: UInt64 {
        get { state.withLock { $0.id } }
        set { state.withLock { $0.id = newValue } }
    }
    var outcomes: [MembraneError.Code?] { state.withLock { $0.outcomes } }
    func note(_ outcome: MembraneError.Code?) { state.withLock { $0.outcomes.append(outcome) } }
}

extension Result where Failure == MembraneError {
    /// nil for a success.
    var failureCode: MembraneError.Code? {
        if case .failure(let error) = self { error.code } else { nil }
    }
}
