import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 server with `ServerStats` counting on it.
///
/// `HTTPServerBuilder` hands us the application's whole per-request responder (it calls
/// `MockResponder`, then writes the response head and body), and the `ServerChildChannel`
/// it builds sets up every accepted connection. So this is the one place that sees both:
/// a `ConnectionCounter` goes first in each connection's pipeline, and the responder is
/// wrapped so an API request counts as in flight until its response is fully written
/// (or writing it failed because a fault dropped or reset the connection).
extension HTTPServerBuilder {
    static func http1(stats: ServerStats, configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        .init { responder in
            CountingHTTP1Channel(
                stats: stats,
                http1: HTTP1Channel(
                    responder: { (request, writer: consuming ResponseWriter, channel) in
                        guard !MockResponder.isAdmin(path: request.uri.path) else {
                            try await responder(request, writer, channel)
                            return
                        }
                        stats.requestStarted()
                        defer { stats.requestFinished() }
                        try await responder(request, writer, channel)
                    },
                    configuration: configuration
                )
            )
        }
    }
}

/// `HTTP1Channel` with a `ConnectionCounter` in front of its handlers.
struct CountingHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let stats: ServerStats
    let http1: HTTP1Channel

    /// Runs on the new connection's event loop, before the channel is registered.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let stats = self.stats
        let http1 = self.http1
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionCounter(stats: stats), position: .first)
        }.flatMap {
            http1.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

/// Counts one TCP connection from the moment the channel is active until it goes
/// inactive (closed by either side, reset, or torn down at shutdown). It only watches
/// lifecycle events; data passes through untouched.
final class ConnectionCounter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let stats: ServerStats
    /// Guards against counting a connection twice (active at `handlerAdded` and again
    /// in `channelActive`) or closing it twice (`channelInactive`, then `handlerRemoved`).
    private var isCounted = false

    init(stats: ServerStats) {
        self.stats = stats
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { opened() }
    }

    func channelActive(context: ChannelHandlerContext) {
        opened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closed()
    }

    private func opened() {
        guard !isCounted else { return }
        isCounted = true
        stats.connectionOpened()
    }

    private func closed() {
        guard isCounted else { return }
        isCounted = false
        stats.connectionClosed()
    }
}
