#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The moment a call must be over, on the monotonic clock (wall-clock jumps
/// neither shorten nor stretch it).
struct Deadline: Sendable {
    private let milliseconds: Int64

    init(after timeout: Int) {
        milliseconds = Deadline.now() + Int64(timeout)
    }

    /// Milliseconds left; 0 once it has passed.
    var remaining: Int {
        Int(max(0, milliseconds - Deadline.now()))
    }

    var hasPassed: Bool { remaining == 0 }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
