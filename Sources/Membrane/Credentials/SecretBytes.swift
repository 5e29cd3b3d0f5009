#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Bytes that must not outlive their use: a workspace secret, a token.
/// Kept in memory of their own and wiped (explicit_bzero, which the
/// compiler may not optimise away) when replaced or released. Never printed:
/// `description` says only that it is a secret.
final class SecretBytes: @unchecked Sendable, CustomStringConvertible {
    private let storage: UnsafeMutableBufferPointer<UInt8>

    init<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        storage = .allocate(capacity: max(bytes.count, 1))
        _ = storage.initialize(from: bytes)
        count = bytes.count
    }

    convenience init(_ text: String) {
        self.init(Array(text.utf8))
    }

    let count: Int

    deinit {
        if let base = storage.baseAddress { explicit_bzero(base, storage.count) }
        storage.deallocate()
    }

    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(rebasing: storage[0..<count]))
    }

    var description: String { "<secret>" }
}
