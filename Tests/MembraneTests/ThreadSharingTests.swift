import Foundation
import Synchronization
import Testing
@testable import Membrane

/// One client, many threads: the rule hosts rely on (Python drops the GIL
/// during lookups). `make test` also runs this suite under ThreadSanitizer.
@Suite("Threads sharing one client")
struct ThreadSharingTests {
    /// Runs `body(thread)` on `count` real threads at once and waits for all.
    func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                body(index)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
    }

    @Test("8 threads x 250 lookups: every answer right, no error but the expected ones")
    func eightThreads() throws {
        let client = try MockServer.client()
        let selectors = ["hubspot", "salesforce", "~search.membrane--getmembrane_com", "no-such-integration"]
        let problems = Locked<[String]>([])
        let lookups = Atomic<Int>(0)
        onThreads(8) { thread in
            for index in 0..<250 {
                let selector = selectors[(thread + index) % selectors.count]
                do throws(MembraneError) {
                    let integration = try client.integration(selector)
                    if integration.key != selector {
                        problems.withLock { $0.append("\(selector) answered \(String(describing: integration.key))") }
                    }
                } catch {
                    if !(selector == "no-such-integration" && error.code == .notFound) {
                        problems.withLock { $0.append("\(selector): \(error.code) \(error.message)") }
                    }
                }
                lookups.add(1, ordering: .relaxed)
            }
        }
        #expect(lookups.load(ordering: .relaxed) == 2000)
        #expect(problems.withLock { $0 }.isEmpty, "\(problems.withLock { $0.prefix(5) })")
    }

    @Test("options set and cancel called while other threads look up")
    func settingsAndCancelDuringLookups() throws {
        let client = try MockServer.client()
        let unexpected = Atomic<Int>(0)
        onThreads(4) { thread in
            for index in 0..<100 {
                switch thread {
                case 0:
                    try? client.setUserAgent("thread-test/\(index)")
                    try? client.setTimeout(milliseconds: 5_000 + index)
                case 1:
                    if index % 10 == 0 { client.cancel() }
                default:
                    // Thread 1 cancels calls in flight: .canceled is expected, nothing else.
                    if let error = lookupError(client, "hubspot"), error.code != .canceled {
                        unexpected.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        #expect(unexpected.load(ordering: .relaxed) == 0)
        #expect(try client.integration("salesforce").key == "salesforce")
    }

    @Test("tokens replaced and a provider renewing while other threads look up")
    func tokensChangingDuringLookups() throws {
        let client = try MockServer.client()
        let providerCalls = Atomic<Int>(0)
        let unexpected = Locked<[String]>([])
        onThreads(6) { thread in
            for index in 0..<60 {
                switch thread {
                case 0:
                    // Alternates a fixed token and a provider; both give the stand-in's token.
                    if index % 2 == 0 {
                        try? client.setToken(MockServer.token)
                    } else {
                        client.setTokenProvider {
                            providerCalls.add(1, ordering: .relaxed)
                            return .success(MockServer.token)
                        }
                    }
                default:
                    if let error = lookupError(client, "hubspot") {
                        unexpected.withLock { $0.append("\(error.code) \(error.message)") }
                    }
                }
            }
        }
        #expect(unexpected.withLock { $0 }.isEmpty, "\(unexpected.withLock { $0.prefix(5) })")
        #expect(providerCalls.load(ordering: .relaxed) <= 30)
    }
}
