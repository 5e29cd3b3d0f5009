import Hummingbird
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Request context that can also hang up on the client, which the `drop`, `reset-*`
/// and `short-content-length` faults need and Hummingbird's basic context cannot do.
struct MockRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Closes the connection cleanly (FIN).
    let closeConnection: @Sendable () async -> Void
    /// Aborts the connection with a TCP reset (RST): SO_LINGER {on, 0 s}, then close.
    let resetConnection: @Sendable () async -> Void
    /// What the request log middleware made of the token, for API requests.
    var authentication: AuthenticationOutcome?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        let channel = source.channel
        self.closeConnection = {
            // Writes already handed to the channel are flushed before this runs on the
            // event loop, so anything sent so far still reaches the client.
            let closed: EventLoopFuture<Void> = channel.close(mode: .all)
            try? await closed.get()
        }
        self.resetConnection = {
            await Self.reset(channel)
        }
    }

    /// With SO_LINGER set to {l_onoff: 1, l_linger: 0}, close(2) discards anything still
    /// unsent and answers with an RST instead of a FIN.
    ///
    /// `ChannelOptions.socketOption(.so_linger)` cannot be used for this: its value is a
    /// plain `CInt`, which setsockopt rejects for SO_LINGER, so the linger struct is set
    /// through the socket channel's `SocketOptionProvider` conformance instead.
    private static func reset(_ channel: any Channel) async {
        guard let socket = channel as? any SocketOptionProvider else {
            // Not a plain socket (cannot happen with Hummingbird's HTTP/1 server):
            // a clean close is the best we can do.
            try? await channel.close(mode: .all).get()
            return
        }
        await waitUntilAcknowledged(socket)
        // Option and close run back to back on the event loop, after every write the
        // handler has already passed on.
        let closed = channel.eventLoop.flatSubmit {
            socket.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                .flatMapErrorThrowing { _ in () }  // already closed: nothing left to reset
                .flatMap { channel.close(mode: .all) }
        }
        try? await closed.get()
    }

    /// Before an RST, give bytes already written (the first half of a `reset-mid-body`
    /// body) up to 1 s to be acknowledged by the client, since an RST throws away
    /// whatever the kernel has not sent yet. On loopback this returns at once.
    private static func waitUntilAcknowledged(_ socket: any SocketOptionProvider) async {
        #if os(Linux) || os(Android)
        for _ in 0..<200 {
            guard let info = try? await socket.getTCPInfo().get(), info.tcpi_unacked > 0 else { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
        #endif
    }
}

/// Thrown after deliberately closing a connection, so Hummingbird stops handling it
/// without writing anything more.
struct ConnectionDropped: Error {}
