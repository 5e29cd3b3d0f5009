/// An integration selector (id, uuid or key) turned into exactly one URL path
/// segment.
///
/// Everything but RFC 3986's unreserved characters is percent-encoded, so `/`,
/// `?`, `#`, `%`, spaces and non-ASCII text can neither reach another path nor
/// add a query. A selector of only dots is encoded too, since `.` and `..` are
/// path segments with a meaning of their own.
enum Selector {
    static let maximumByteCount = 1024

    /// Checks what the API could never accept, before any request is made.
    static func validate(_ selector: String) throws(MembraneError) {
        let count = selector.utf8.count
        guard count > 0 else {
            throw .invalidArgument("the selector is empty")
        }
        guard count <= maximumByteCount else {
            throw .invalidArgument("the selector is \(count) bytes long; the limit is \(maximumByteCount)")
        }
    }

    static func pathSegment(_ selector: String) -> String {
        let onlyDots = selector.utf8.allSatisfy { $0 == UInt8(ascii: ".") }
        return PercentEncoding.encoded(selector, keepingDots: !onlyDots)
    }
}
