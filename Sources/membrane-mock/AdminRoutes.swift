import Hummingbird

/// The `/_mock/...` endpoints tests use to script faults and read back requests.
/// They need no token, are never logged and never faulted.
enum AdminRoutes {
    /// Generous, since a fault may carry a large `body`; it only stops a runaway test
    /// from exhausting memory.
    static let maxBodySize = 64 << 20

    static func router(faults: FaultQueue, requestLog: RequestLog, stats: ServerStats) -> Router<MockRequestContext> {
        let router = Router(context: MockRequestContext.self)
        router.add(middleware: AdminErrorMiddleware())

        router.get("/_mock/health") { _, _ in
            Answer.json(200, ["ok": true]).response
        }

        // One fault object or an array of them, appended to the FIFO queue.
        router.post("/_mock/faults") { request, _ in
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

        router.get("/_mock/faults") { _, _ in
            Answer.json(200, ["faults": .array(faults.pending().map(\.summary))]).response
        }

        router.delete("/_mock/faults") { _, _ in
            Answer.json(200, ["cleared": .int(Int64(faults.clear()))]).response
        }

        router.get("/_mock/requests") { _, _ in
            Answer.json(200, ["requests": .array(requestLog.snapshot().map(\.json))]).response
        }

        router.delete("/_mock/requests") { _, _ in
            Answer.json(200, ["cleared": .int(Int64(requestLog.clear()))]).response
        }

        // Connection and concurrency counters; DELETE starts a new measurement and
        // answers with the counters as they were just before.
        router.get("/_mock/stats") { _, _ in
            Answer.json(200, stats.snapshot().json).response
        }

        router.delete("/_mock/stats") { _, _ in
            Answer.json(200, stats.reset().json).response
        }

        return router
    }
}

/// Gives Hummingbird's own errors (unknown admin path, body too large) the API's
/// error shape, so every answer from the mock is the same kind of JSON.
struct AdminErrorMiddleware: RouterMiddleware {
    typealias Context = MockRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let status = Int(error.status.code)
            if status == 404 {
                return APIError.notFound("Cannot \(request.method.rawValue) \(request.uri.path)").response
            }
            let message = (error as? HTTPError)?.body ?? "\(status) \(error.status.reasonPhrase)"
            return APIError.answer(status: status, key: "bad_request", message: message).response
        }
    }
}
