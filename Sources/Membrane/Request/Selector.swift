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
        return percentEncoded(selector, keepingDots: !onlyDots)
    }

    static func percentEncoded(_ text: String, keepingDots: Bool = true) -> String {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) && (keepingDots || byte != UInt8(ascii: ".")) {
                encoded.append(byte)
            } else {
                encoded.append(UInt8(ascii: "%"))
                encoded.append(hexDigits[Int(byte >> 4)])
                encoded.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
