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
    /// aborts the transfer. Runs for every header of every response, so it
    /// compares bytes and makes strings only for the headers it keeps.
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
        let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
        let value = Self.trimmed(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
        if Self.name(name, is: "content-length") {
            guard let announced = Self.decimal(value) else { return true }
            guard announced <= limit else {
                exceededLimit = true
                return false
            }
            body.reserveCapacity(announced)
        } else if Self.name(name, is: "content-type") {
            contentType = String(decoding: value, as: UTF8.self)
        } else if Self.name(name, is: "location") {
            location = String(decoding: value, as: UTF8.self)
        } else if Self.name(name, is: "retry-after") {
            retryAfter = String(decoding: value, as: UTF8.self)
        }
        return true
    }

    /// Header names compare without regard to ASCII case.
    private static func name(_ bytes: UnsafeRawBufferPointer, is lowercased: StaticString) -> Bool {
        guard bytes.count == lowercased.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: lowercased.utf8Start, count: lowercased.utf8CodeUnitCount)
        for (byte, want) in zip(bytes, expected) {
            let folded = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
            if folded != want { return false }
        }
        return true
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) }) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: bytes[first...last])
    }

    /// A non-negative decimal that fits in an Int, or nil.
    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }
}
