import Foundation
import Testing
import CJansson
@testable import Membrane

/// Shared in-flight lookups (`setSharesRequests`) and the cache
/// (`setCacheTTL`, `setCacheMaximumEntries`, `invalidate`), counted in the
/// stand-in server's request log. Tests run in parallel against one server,
/// so each counts requests for selectors of its own: not fixtures, answered
/// by a fault of its own with a small integration (or a 404 or a 503).
@Suite("Shared lookups and the cache")
struct SharingAndCacheTests {
    /// Makes the server answer `selector` with a small integration of its
    /// own, after `delayMs`, forever.
    func serve(_ selector: String, delayMs: Int = 0) async throws {
        try await MockServer.addFault([
            "match": selector, "times": 0, "delayMs": delayMs,
            "json": ["id": "id-\(selector)", "key": selector, "name": "Sharing test \(selector)",
                     "parameters": ["clientId": "client-\(selector)"],
                     "meta": ["owner": "tests", "tags": ["one", "two"]]] as [String: Any],
        ])
    }

    /// Requests the server saw for `selector`; with `secrets`, only those
    /// asking for includeSecrets=`secrets`.
    func requests(_ selector: String, secrets: Bool? = nil) async throws -> Int {
        try await MockServer.requests().filter { request in
            request.path == "/integrations/\(selector)"
                && secrets.map { request.query.contains("includeSecrets=\($0)") } ?? true
        }.count
    }

    /// Runs `body(index)` on `count` threads released at the same moment, and
    /// returns once all have finished (without holding a thread of the pool).
    func together(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) async {
        let gate = Gate(count)
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                gate.arriveAndWait()
                body(index)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        await withCheckedContinuation { continuation in
            group.notify(queue: .global()) { continuation.resume() }
        }
    }

    /// Each result is a success equal to the first, and every one is an
    /// object of its own (distinct trees, nested values included).
    func expectOwnCopies(_ results: [Result<Integration, MembraneError>], key: String) {
        let integrations = results.compactMap { try? $0.get() }
        #expect(integrations.count == results.count, "\(results.compactMap(\.failureCode))")
        guard let first = integrations.first else { return }
        for integration in integrations {
            #expect(integration.key == key)
            #expect(json_equal(integration.json.pointer, first.json.pointer) == 1)
        }
        let trees = Set(integrations.map { UInt(bitPattern: $0.json.pointer) })
        let metas = Set(integrations.map { UInt(bitPattern: json_object_get($0.json.pointer, "meta")) })
        #expect(trees.count == integrations.count, "some callers got the same json_t")
        #expect(metas.count == integrations.count, "some callers share a nested object")
    }

    @Test("8 threads look up one selector at once: one request, 8 results of their own")
    func blockingThreadsShare() async throws {
        let selector = "sc-share-threads"
        try await serve(selector, delayMs: 400)
        let client = try MockServer.client()
        let results = Locked<[Result<Integration, MembraneError>]>([])
        await together(8) { _ in
            let result = Result { () throws(MembraneError) -> Integration in try client.integration(selector) }
            results.withLock { $0.append(result) }
        }
        let all = results.withLock { $0 }
        #expect(try await requests(selector) == 1)
        expectOwnCopies(all, key: selector)
        // One caller's edits reach no other.
        if all.count == 8, case .success(let edited) = all[0], case .success(let other) = all[1] {
            json_object_set_new(json_object_get(edited.json.pointer, "meta"), "owner", json_string("edited"))
            #expect(json_string_value(json_object_get(json_object_get(other.json.pointer, "meta"), "owner"))
                .map { String(cString: $0) } == "tests")
        }
    }

    @Test("fetchIntegration and blocking lookups of one selector share one request")
    func asyncAndBlockingShare() async throws {
        let selector = "sc-share-mixed"
        try await serve(selector, delayMs: 400)
        let client = try MockServer.client()
        let blocking = Locked<[Result<Integration, MembraneError>]>([])
        async let threads: Void = together(3) { _ in
            let result = Result { () throws(MembraneError) -> Integration in try client.integration(selector) }
            blocking.withLock { $0.append(result) }
        }
        let fetched = await withTaskGroup(of: Result<Integration, MembraneError>.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    do throws(MembraneError) {
                        return .success(try await client.fetchIntegration(selector))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        await threads
        #expect(try await requests(selector) == 1)
        expectOwnCopies(fetched + blocking.withLock { $0 }, key: selector)
    }

    @Test("with sharing off every caller sends its own request; errors are shared as copies")
    func sharingOffAndErrors() async throws {
        let selector = "sc-share-off"
        try await serve(selector, delayMs: 300)
        let client = try MockServer.client()
        client.setSharesRequests(false)
        await together(8) { _ in _ = try? client.integration(selector) }
        #expect(try await requests(selector) == 8)

        client.setSharesRequests(true)
        await together(8) { _ in _ = try? client.integration(selector) }
        #expect(try await requests(selector) == 9)

        // A delayed 503, no retries: one request, 8 errors.
        let failing = "sc-share-503"
        try await MockServer.addFault(["match": failing, "status": 503, "delayMs": 300, "times": 0])
        let retryless = try MockServer.client(retries: 0)
        let errors = Locked<[MembraneError?]>([])
        await together(8) { _ in
            let error = lookupError(retryless, failing)
            errors.withLock { $0.append(error) }
        }
        #expect(try await requests(failing) == 1)
        let all = errors.withLock { $0 }
        #expect(all.count == 8)
        #expect(all.allSatisfy { $0?.code == .server && $0?.httpStatus == 503 }, "\(all.map { $0?.code })")
    }

    @Test("cache: a hit makes no request and is a new copy; expired answers are fetched again")
    func cacheHitMissExpiry() async throws {
        let selector = "sc-cache-ttl"
        try await serve(selector)
        let client = try MockServer.client()
        // Off by default.
        _ = try client.integration(selector)
        _ = try client.integration(selector)
        #expect(try await requests(selector) == 2)

        try client.setCacheTTL(milliseconds: 1500)
        let fetched = try client.integration(selector)
        let pristine = JSONValue(owning: json_deep_copy(fetched.json.pointer))
        // Edits of what a miss handed out never reach the cache.
        json_object_set_new(fetched.json.pointer, "name", json_string("edited"))
        let hit = try client.integration(selector)
        #expect(try await requests(selector) == 3)
        #expect(hit.json.pointer != fetched.json.pointer)
        #expect(json_equal(hit.json.pointer, pristine.pointer) == 1)
        json_object_set_new(json_object_get(hit.json.pointer, "meta"), "owner", json_string("edited"))
        let again = try client.integration(selector)
        #expect(json_equal(again.json.pointer, pristine.pointer) == 1)
        #expect(try client.integrationText(selector).isEmpty == false)
        #expect(try await client.fetchIntegration(selector).key == selector)
        #expect(try await requests(selector) == 3, "text and async lookups are served from the cache too")

        try await Task.sleep(for: .milliseconds(1700))
        _ = try client.integration(selector)
        #expect(try await requests(selector) == 4)
        _ = try client.integration(selector)
        #expect(try await requests(selector) == 4)

        #expect(throws: MembraneError.self) { try client.setCacheTTL(milliseconds: -1) }
        #expect(throws: MembraneError.self) { try client.setCacheTTL(milliseconds: 86_400_001) }
        #expect(throws: MembraneError.self) { try client.setCacheMaximumEntries(0) }
    }

    @Test("invalidate one selector or all; TTL 0 and the least recently used go")
    func invalidateAndEviction() async throws {
        let (a, b, c) = ("sc-cache-a", "sc-cache-b", "sc-cache-c")
        for selector in [a, b, c] { try await serve(selector) }
        let client = try MockServer.client()
        try client.setCacheTTL(milliseconds: 60_000)
        for selector in [a, b, a, b] { _ = try client.integration(selector) }
        #expect(try await requests(a) == 1)
        #expect(try await requests(b) == 1)

        client.invalidate(a)
        client.invalidate("sc-cache-never-seen")
        _ = try client.integration(a)
        _ = try client.integration(b)
        #expect(try await requests(a) == 2)
        #expect(try await requests(b) == 1)

        client.invalidate(nil)
        _ = try client.integration(a)
        _ = try client.integration(b)
        #expect(try await requests(a) == 3)
        #expect(try await requests(b) == 2)

        try client.setCacheTTL(milliseconds: 0)
        try client.setCacheTTL(milliseconds: 60_000)
        _ = try client.integration(a)
        #expect(try await requests(a) == 4)

        // At most 2: a, b, a (now the most recent), c: b goes, not a.
        client.invalidate(nil)
        try client.setCacheMaximumEntries(2)
        for selector in [a, b, a, c, a] { _ = try client.integration(selector) }
        #expect(try await requests(a) == 5)
        _ = try client.integration(b)
        #expect(try await requests(b) == 4)
    }

    @Test("includeSecrets bypasses the cache both ways; errors are never kept")
    func secretsAndErrorsNotCached() async throws {
        let selector = "sc-cache-secrets"
        try await serve(selector)
        let client = try MockServer.client()
        try client.setCacheTTL(milliseconds: 60_000)
        _ = try client.integration(selector, includeSecrets: true)
        _ = try client.integration(selector, includeSecrets: true)
        #expect(try await requests(selector, secrets: true) == 2)
        _ = try client.integration(selector)
        _ = try client.integration(selector)
        #expect(try await requests(selector, secrets: false) == 1)
        _ = try client.integration(selector, includeSecrets: true)
        _ = try await client.fetchIntegration(selector, includeSecrets: true)
        #expect(try await requests(selector, secrets: true) == 4)

        let missing = "sc-cache-missing"
        #expect(lookupError(client, missing)?.code == .notFound)
        #expect(lookupError(client, missing)?.code == .notFound)
        #expect(try await requests(missing) == 2)
    }

    @Test("setToken empties the cache")
    func setTokenEmptiesCache() async throws {
        let selector = "sc-cache-token"
        try await serve(selector)
        let client = try MockServer.client()
        try client.setCacheTTL(milliseconds: 60_000)
        _ = try client.integration(selector)
        _ = try client.integration(selector)
        #expect(try await requests(selector) == 1)
        try client.setToken(MockServer.token)
        _ = try client.integration(selector)
        #expect(try await requests(selector) == 2)
        _ = try client.integration(selector)
        #expect(try await requests(selector) == 2)
    }

    @Test("an answer in flight when the token changes does not fill the emptied cache")
    func tokenChangeDuringLookup() async throws {
        let selector = "sc-cache-token-in-flight"
        try await serve(selector, delayMs: 400)
        let client = try MockServer.client()
        try client.setCacheTTL(milliseconds: 60_000)
        async let inFlight: Void = together(1) { _ in _ = try? client.integration(selector) }
        // Once the server has the request (it answers 400 ms later).
        for _ in 0..<200 where try await requests(selector) == 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        try client.setToken(MockServer.token)
        await inFlight
        #expect(try await requests(selector) == 1)
        // Fetched with the old token: the new token's lookups must not see it.
        _ = try client.integration(selector)
        #expect(try await requests(selector) == 2, "the old token's answer was served from the cache")
    }
}

/// Holds `count` threads until all have arrived, then lets them all go.
private final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: Int

    init(_ count: Int) { waiting = count }

    func arriveAndWait() {
        condition.lock()
        waiting -= 1
        if waiting == 0 { condition.broadcast() }
        while waiting > 0 { condition.wait() }
        condition.unlock()
    }
}
