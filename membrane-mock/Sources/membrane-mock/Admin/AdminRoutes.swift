import Hummingbird

/// The `/_mock/...` endpoints tests use to script faults and read back requests.
/// They need no token, are never logged and never faulted.
enum AdminRoutes {
    /// Generous, since a fault may carry a large `body`; it only stops a runaway test
    /// from exhausting memory.
    static let maxBodySize = 64 << 20

    static func add(to router: RouterGroup<MockRequestContext>, faults: FaultQueue, requestLog: RequestLog,
                    stats: ServerStats) {
        router.get("health") { _, _ in
            Answer.json(200, ["ok": true]).response
        }

        // One fault object or an array of them, appended to the FIFO queue.
        router.post("faults") { request, _ in
            var request = request
            let buffer = try await request.collectBody(upTo: maxBodySize)
            let parsed: [Fault]
            do {
                let document = try JSONValue.parse(buffer.readableBytesView)
                if case .array(let items) = document {
                    parsed = try items.map(Fault.init(json:))
                } else {
                    parsed = [try Fault(json: document)]
                }
            } catch let error as Fault.InvalidFault {
                return APIError.answer(status: 400, key: "invalid_fault", message: error.description).response
            } catch {
                return APIError.answer(status: 400, key: "invalid_json", message: "Body is not valid JSON").response
            }
            let pending = faults.append(parsed)
            return Answer.json(200, ["queued": .int(Int64(parsed.count)), "pending": .int(Int64(pending))]).response
        }

        router.get("faults") { _, _ in
            Answer.json(200, ["faults": .array(faults.pending().map(\.summary))]).response
        }

        router.delete("faults") { _, _ in
            Answer.json(200, ["cleared": .int(Int64(faults.clear()))]).response
        }

        router.get("requests") { _, _ in
            Answer.json(200, ["requests": .array(requestLog.snapshot().map(\.json))]).response
        }

        router.delete("requests") { _, _ in
            Answer.json(200, ["cleared": .int(Int64(requestLog.clear()))]).response
        }

        // Connection and concurrency counters; DELETE starts a new measurement and
        // answers with the counters as they were just before.
        router.get("stats") { _, _ in
            Answer.json(200, stats.snapshot().json).response
        }

        router.delete("stats") { _, _ in
            Answer.json(200, stats.reset().json).response
        }
    }
}
