#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The environment variables the vendor's tools use, read when a client is
/// made without an explicit URL or token.
enum Environment {
    static let apiURLVariable = "MEMBRANE_API_URL"
    static let tokenVariable = "MEMBRANE_TOKEN"

    /// The variable's value; `nil` when unset or not UTF-8.
    static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(validatingCString: raw)
    }
}
