/// Where libcurl writes one response: the body, capped at a size limit, and
/// the headers the client acts on.
///
/// A body over the limit is refused as soon as it is announced (Content-Length)
/// or as soon as it grows past it, so memory never holds more than the limit.
final class ResponseSink {
    let limit: Int
    var body: [UInt8] = []
    var contentType: String?
    var location: String?
    var retryAfter: String?
    /// Set when the body was refused for its size; the transfer was aborted.
    private(set) var exceededLimit = false
    /// Whether any byte of a response (a status line, a header) arrived.
    private(set) var receivedAnything = false

    init(limit: Int) {
        self.limit = limit
    }

    /// Appends body bytes; `false` aborts the transfer.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count <= limit - body.count else {
            exceededLimit = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// Reads one header line ("Name: value\r\n" or a status line); `false`
    /// aborts the transfer.
    func header(_ line: UnsafeRawBufferPointer) -> Bool {
        receivedAnything = true
        if line.starts(with: "HTTP/".utf8) {
            // A new response (after 1xx, or a proxy's CONNECT answer) starts afresh.
            contentType = nil
            location = nil
            retryAfter = nil
            return true
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return true }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        let value = String(decoding: line[(colon + 1)...], as: UTF8.self)
            .trimmingWhitespace()
        switch name {
        case "content-type": contentType = value
        case "location": location = value
        case "retry-after": retryAfter = value
        case "content-length":
            guard let announced = Int(value) else { return true }
            guard announced <= limit else {
                exceededLimit = true
                return false
            }
            body.reserveCapacity(announced)
        default: break
        }
        return true
    }
}

extension String {
    /// Without leading and trailing spaces, tabs, CR and LF. Works on bytes:
    /// as Characters, "\r\n" is one grapheme that equals neither "\r" nor "\n".
    func trimmingWhitespace() -> String {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        let bytes = utf8
        guard let start = bytes.firstIndex(where: { !isSpace($0) }),
              let end = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
