import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 server with `ServerStats` counting on it.
///
/// `HTTPServerBuilder` hands us the application's whole per-request responder (it calls
/// the router, then writes the response head and body), and the `ServerChildChannel`
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
                        guard !AdminPath.contains(request.uri.path) else {
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
/// inactive (closed by either side, reset, or torn down at shutdown), and
/// makes sure a connection whose answer is finished does get closed.
///
/// Hummingbird answers a request it cannot parse (for instance a head over its
/// 80 KB limit) with 400 and `Connection: close`, half-closes its output, and
/// waits for the client to close. But it stops reading: a client still
/// sending a large head (about 300 KB, more than the socket buffers hold)
/// stays blocked in send, never reads the 400, never closes, and the
/// connection stayed open until shutdown. So once the output is closed this
/// handler, first in the pipeline, keeps reading and throws the bytes away
/// until the client closes (or 5 s pass), then closes the connection.
final class ConnectionCounter: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let drainLimit = TimeAmount.seconds(5)

    private let stats: ServerStats
    /// Guards against counting a connection twice (active at `handlerAdded` and again
    /// in `channelActive`) or closing it twice (`channelInactive`, then `handlerRemoved`).
    private var isCounted = false
    /// The output is closed: what the client still sends is read and dropped.
    private var isDraining = false

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

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isDraining else { return }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard !isDraining else {
            context.read()
            return
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if isDraining, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        context.close(mode: mode, promise: promise)
        guard mode == .output, !isDraining else { return }
        isDraining = true
        context.read()
        let channel = context.channel
        channel.eventLoop.scheduleTask(in: Self.drainLimit) {
            channel.close(promise: nil)
        }
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
