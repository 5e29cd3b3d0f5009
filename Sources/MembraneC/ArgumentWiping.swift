#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Clearing memory that held a secret, in a way the optimiser may not drop.
enum ArgumentWiping {
    static func wipe(_ pointer: UnsafeMutablePointer<CChar>, count: Int) {
        explicit_bzero(pointer, count)
    }
}
