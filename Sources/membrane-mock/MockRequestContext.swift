import Hummingbird
import NIOCore

/// Request context that can also hang up on the client, which the `drop` and
/// `short-content-length` faults need and Hummingbird's basic context cannot do.
struct MockRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let closeConnection: @Sendable () async -> Void

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        let channel = source.channel
        self.closeConnection = {
            // Writes already handed to the channel are flushed before this runs on the
            // event loop, so anything sent so far still reaches the client.
            let closed: EventLoopFuture<Void> = channel.close(mode: .all)
            try? await closed.get()
        }
    }
}

/// Thrown after deliberately closing a connection, so Hummingbird stops handling it
/// without writing anything more.
struct ConnectionDropped: Error {}
