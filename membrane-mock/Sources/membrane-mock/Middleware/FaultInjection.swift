import HTTPTypes
import Hummingbird

/// Plays the first queued fault that matches the request's selector over the
/// answer the API would have given (which may itself be a 401 or 404). The
/// list route's selector is "".
struct FaultMiddleware: RouterMiddleware {
    typealias Context = MockRequestContext

    let faults: FaultQueue

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let selector = SelectorSegment(rawPath: request.uri.path)?.text ?? ""
        guard let fault = faults.consume(selector: selector) else {
            return try await next(request, context)
        }
        context.logger.debug("\(request.method) \(request.uri.path) -> fault \(String(decoding: fault.summary.serialized(), as: UTF8.self))")
        let normal = try await Answer(collecting: next(request, context))
        return try await FaultPlayer(
            fault: fault,
            closeConnection: context.closeConnection,
            resetConnection: context.resetConnection
        ).response(replacing: normal)
    }
}

extension Answer {
    /// The answer a handler gave, as bytes a fault can cut, compress or replace.
    init(collecting response: Response) async throws {
        let collector = BodyCollector()
        try await response.body.write(collector.writer)
        self.init(status: Int(response.status.code),
                  contentType: response.headers[.contentType] ?? Answer.jsonContentType,
                  body: collector.bytes)
    }
}

/// Gathers a response body written through `ResponseBodyWriter`.
private struct BodyCollector {
    final class Storage: @unchecked Sendable {
        var bytes: [UInt8] = []
    }

    struct Writer: ResponseBodyWriter {
        let storage: Storage

        mutating func write(_ buffer: ByteBuffer) async throws {
            storage.bytes.append(contentsOf: buffer.readableBytesView)
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    private let storage = Storage()
    var writer: Writer { Writer(storage: storage) }
    var bytes: [UInt8] { storage.bytes }
}
