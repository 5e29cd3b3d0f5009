#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Membrane


/// A client's finished requests, waiting for `membrane_client_dispatch`,
/// and the file descriptor that is readable while any wait: the read end of
/// a non-blocking pipe holding one byte then (the model is librdkafka's
/// `rd_kafka_queue_io_event_enable`; a pipe rather than an eventfd, so the
/// same code serves every Unix).
///
/// Deliveries are pushed from the I/O thread (or a cancelling thread) and
/// run on the thread that dispatches, after the lock is released, so a
/// callback may start, cancel and dispatch again.
final class CompletionQueue: @unchecked Sendable {
    /// Runs one request's callback.
    typealias Delivery = () -> Void

    private struct State {
        var deliveries: [Delivery] = []
        var head = 0
        /// The pipe's read end (the host's fd) and write end.
        var fd: Int32 = -1
        var writeEnd: Int32 = -1
        /// Whether the pipe holds its byte (readable).
        var signalled = false
        var closed = false

        var waiting: Int { deliveries.count - head }
    }

    private let state = Locked(State())

    /// The read end, created the first time (-1 when it cannot be: errno).
    func fileDescriptor() -> Int32 {
        state.withLock { state in
            if state.fd < 0 && !state.closed {
                var ends: [Int32] = [-1, -1]
                guard pipe(&ends) == 0 else { return -1 }
                for end in ends {
                    _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                    _ = fcntl(end, F_SETFD, FD_CLOEXEC)
                }
                (state.fd, state.writeEnd) = (ends[0], ends[1])
                if state.waiting > 0 { signal(&state) }
            }
            return state.fd
        }
    }

    func push(_ delivery: @escaping Delivery) {
        state.withLock { state in
            state.deliveries.append(delivery)
            if !state.signalled { signal(&state) }
        }
    }

    /// Runs up to `maximum` deliveries (0: those waiting now); how many ran.
    func dispatch(maximum: Int) -> Int {
        let taken = state.withLock { state -> ArraySlice<Delivery> in
            let count = maximum == 0 ? state.waiting : min(maximum, state.waiting)
            let taken = state.deliveries[state.head..<(state.head + count)]
            state.head += count
            if state.waiting == 0 {
                state.deliveries.removeAll(keepingCapacity: state.deliveries.count <= 4096)
                state.head = 0
                if state.signalled { drain(&state) }
            }
            return taken
        }
        for delivery in taken { delivery() }
        return taken.count
    }

    /// Runs every delivery, including those pushed meanwhile, then closes
    /// the pipe. For `membrane_client_free`, once nothing pushes any more.
    func drainAndClose() {
        while dispatch(maximum: 0) > 0 {}
        state.withLock { state in
            state.closed = true
            if state.fd >= 0 {
                close(state.fd)
                close(state.writeEnd)
            }
            state.fd = -1
            state.writeEnd = -1
        }
    }

    private func signal(_ state: inout State) {
        guard state.writeEnd >= 0 else { return }
        var byte: UInt8 = 1
        if write(state.writeEnd, &byte, 1) == 1 { state.signalled = true }
    }

    private func drain(_ state: inout State) {
        var bytes: (UInt64, UInt64) = (0, 0)
        while read(state.fd, &bytes, 16) > 0 {}
        state.signalled = false
    }
}
