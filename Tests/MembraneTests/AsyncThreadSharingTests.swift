import Foundation
import Testing
@testable import Membrane

/// Requests that do not block, started, cancelled and completed from many
/// threads at once. `make test` also runs this suite under ThreadSanitizer
/// (its name matches the tsan suite's filter).
@Suite("Threads sharing one client's I/O thread")
struct AsyncThreadSharingTests {
    @Test("4 threads x 250 starts, a canceller, cancel of all: every completion once")
    func startsAndCancels() throws {
        let client = try MockServer.client()
        let selectors = ["hubspot", "salesforce", "no-such-integration"]
        let records = Locked<[RequestRecord]>([])
        let started = Locked<[UInt64]>([])
        let problems = Locked<[String]>([])
        let group = DispatchGroup()
        for thread in 0..<5 {
            group.enter()
            Thread {
                defer { group.leave() }
                for index in 0..<250 {
                    if thread == 4 {
                        // The canceller: some ids, and now and then everything.
                        if let id = started.withLock({ $0.randomElement() }) { _ = client.cancelRequest(id) }
                        if index % 100 == 99 { client.cancel() }
                        continue
                    }
                    let selector = selectors[(thread + index) % selectors.count]
                    let record = RequestRecord()
                    do throws(MembraneError) {
                        let id = try client.startIntegration(selector) { result in
                            record.note(result.failureCode)
                            if case .failure(let error) = result,
                               !(error.code == .canceled || (error.code == .notFound && selector == "no-such-integration")) {
                                problems.withLock { $0.append("\(selector): \(error.code)") }
                            }
                        }
                        record.id = id
                        records.withLock { $0.append(record) }
                        started.withLock { $0.append(id) }
                    } catch {
                        problems.withLock { $0.append("start: \(error.code)") }
                    }
                }
            }.start()
        }
        group.wait()
        let all = records.withLock { $0 }
        for _ in 0..<1000 where all.contains(where: { $0.outcomes.isEmpty }) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        client.stopRequests()
        #expect(all.count == 1000)
        #expect(Set(all.map(\.id)).count == 1000, "ids are distinct")
        #expect(all.allSatisfy { $0.outcomes.count == 1 }, "every completion once")
        #expect(problems.withLock { $0 }.isEmpty, "\(problems.withLock { $0.prefix(5) })")
    }
}
