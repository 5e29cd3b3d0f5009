import Testing
@testable import Membrane

@Suite("Batch lookups")
struct BatchTests {
    @Test("results keep input order; failures sit at their places")
    func orderAndFailures() throws {
        let selectors = ["salesforce", "batch-missing-1", "hubspot", "", "~search.membrane--getmembrane_com"]
        let results = try MockServer.client().integrations(selectors)
        #expect(results.count == selectors.count)
        #expect((try? results[0].get())?.key == "salesforce")
        #expect(throws: MembraneError.self) { try results[1].get() }
        if case .failure(let error) = results[1] { #expect(error.code == .notFound) }
        #expect((try? results[2].get())?.key == "hubspot")
        if case .failure(let error) = results[3] { #expect(error.code == .invalidArgument) } else {
            Issue.record("an empty selector must fail")
        }
        #expect((try? results[4].get())?.key == "~search.membrane--getmembrane_com")
    }

    @Test("a selector given twice is fetched once")
    func duplicates() async throws {
        let selector = "batch-duplicate-\(Deadline.now())"
        _ = try MockServer.client().integrations(Array(repeating: selector, count: 5))
        #expect(try await MockServer.requestCount(selector: selector) == 1)
    }

    @Test("an empty batch is an empty result")
    func empty() throws {
        #expect(try MockServer.client().integrations([]).isEmpty)
    }

    @Test("the parallelism bounds the batch: 12 requests of 100 ms, 3 at a time, take 4 rounds")
    func parallelism() async throws {
        let selectors = (0..<12).map { "batch-slow-\($0)" }
        for selector in selectors {
            try await MockServer.addFault(["match": selector, "delayMs": 100])
        }
        let client = try MockServer.client()
        try client.setMaximumParallel(3)
        let start = Deadline.now()
        let results = client.integrations(selectors)
        let took = Deadline.now() - start
        #expect(results.allSatisfy { if case .failure(let error) = $0 { error.code == .notFound } else { false } })
        #expect(took >= 400, "took \(took) ms")
        #expect(took < 1200, "took \(took) ms")
    }
}

// Serialized: the repeated-cursor fault answers any list request, so no other listing may run meanwhile.
@Suite("Listing", .serialized)
struct ListingTests {
    @Test("pages follow the cursor without overlap, and all of them add up")
    func pages() throws {
        let client = try MockServer.client()
        let first = try client.integrationsPage(query: [("limit", "4")])
        #expect(first.items.count == 4)
        let cursor = try #require(first.cursor)
        let second = try client.integrationsPage(query: [("limit", "4"), ("cursor", cursor)])
        #expect(Set(first.items.compactMap(\.id)).isDisjoint(with: second.items.compactMap(\.id)))
        let all = try client.allIntegrations(query: [("limit", "4")])
        let archivedToo = try client.allIntegrations(query: [("limit", "4"), ("includeArchived", "true")])
        #expect(all.count == 14)
        #expect(archivedToo.count == 15)
        #expect(Set(all.compactMap(\.id)).count == all.count)
    }

    @Test("a cursor handed out twice stops the walk")
    func repeatedCursor() async throws {
        // The list route's selector for `match` is "": this fault answers every list request.
        try await MockServer.addFault(["match": "", "status": 200, "times": 2,
                                       "json": ["items": [] as [Any], "cursor": "same"] as [String: Any]])
        let client = try MockServer.client()
        var error: MembraneError?
        do { _ = try client.allIntegrations(query: [("search", "repeat-cursor")]) } catch let failure { error = failure }
        #expect(error?.code == .protocolError)
        #expect(error?.message.contains("\"same\"") == true, "\(String(describing: error))")
    }

    @Test("a cursor that echoes the token is redacted in the error")
    func cursorEchoingToken() async throws {
        try await MockServer.addFault(["match": "", "status": 200, "times": 2,
                                       "json": ["items": [] as [Any], "cursor": "x-\(MockServer.token)"] as [String: Any]])
        let client = try MockServer.client()
        var error: MembraneError?
        do { _ = try client.allIntegrations(query: [("search", "echo-cursor")]) } catch let failure { error = failure }
        #expect(error?.code == .protocolError)
        #expect(error?.message.contains(MockServer.token) == false)
        #expect(error?.message.contains("[redacted]") == true, "\(String(describing: error))")
    }

    @Test("the page cap stops the walk")
    func pageCap() throws {
        let client = try MockServer.client()
        try client.setMaximumPages(2)
        do {
            _ = try client.allIntegrations(query: [("limit", "2")])
            Issue.record("15 items at 2 a page need more than 2 pages")
        } catch {
            #expect(error.code == .protocolError)
            #expect(error.message.contains("more than 2 pages"))
        }
    }

    @Test("names and values are percent-encoded")
    func queryEncoding() async throws {
        _ = try MockServer.client().integrationsPage(query: [("search", "hub spot&x=1/ü")])
        let queries = try await MockServer.requests().filter { $0.path == "/integrations" }.map(\.query)
        #expect(queries.contains("search=hub%20spot%26x%3D1%2F%C3%BC"), "\(queries)")
    }
}

@Suite("Log hook")
struct LogTests {
    @Test("one line per attempt and per retry, without the token")
    func lines() async throws {
        let token = MockServer.token
        let lines = Locked<[(LogLevel, String)]>([])
        let client = try MockServer.client()
        try client.setRetryBase(milliseconds: 1)
        client.setLogHandler { level, line in lines.withLock { $0.append((level, line)) } }
        _ = try client.integration("hubspot")
        try await MockServer.addFault(["match": "log-retry", "status": 503])
        _ = try? client.integration("log-retry")
        let captured = lines.withLock { $0 }
        #expect(captured.contains { $0.0 == .info && $0.1.hasPrefix("GET /integrations/hubspot?includeSecrets=false: 200 (attempt 1, ") })
        #expect(captured.contains { $0.0 == .warning && $0.1.contains("log-retry") && $0.1.contains(": 503 (attempt 1") })
        #expect(captured.contains { $0.0 == .warning && $0.1.contains("retrying in") && $0.1.contains("(attempt 2 of 3)") })
        #expect(captured.contains { $0.1.contains("log-retry") && $0.1.contains(": 404 (attempt 2") })
        #expect(!captured.contains { $0.1.contains(token) })
        client.setLogHandler(nil)
        let count = captured.count
        _ = try client.integration("hubspot")
        #expect(lines.withLock { $0.count } == count, "no lines once the handler is removed")
    }
}
