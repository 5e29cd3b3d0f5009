#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where libcurl writes one response: the body, capped at a size limit, and
/// the headers the client acts on.
///
/// A body over the limit is refused as soon as it is announced (Content-Length)
/// or as soon as it grows past it, so memory never holds more than the limit.
final class ResponseSink {
    let limit: Int
    var body: [UInt8] = []
    /// Kept for answers other than 2xx only (error messages quote it).
    var contentType: String?
    var location: String?
    var retryAfter: String?
    /// Set when the body was refused for its size; the transfer was aborted.
    private(set) var exceededLimit = false
    /// Whether the status line says 2xx.
    private var isSuccess = false
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
        guard let base = line.baseAddress, line.count > 0 else { return true }
        if line.count >= 5 && memcmp(base, "HTTP/", 5) == 0 {
            // A new response (after 1xx, or a proxy's CONNECT answer) starts afresh.
            contentType = nil
            location = nil
            retryAfter = nil
            isSuccess = Self.isSuccessStatusLine(line)
            return true
        }
        guard let colonPointer = memchr(base, Int32(UInt8(ascii: ":")), line.count) else { return true }
        let colon = base.distance(to: UnsafeRawPointer(colonPointer))
        let name = UnsafeRawBufferPointer(start: base, count: colon)
        // Only four names matter; their lengths tell them apart before any
        // byte is compared (most headers are none of them).
        switch colon {
        case 14 where Self.name(name, is: "content-length"):
            guard let announced = Self.decimal(Self.value(line, after: colon)) else { return true }
            guard announced <= limit else {
                exceededLimit = true
                return false
            }
            body.reserveCapacity(announced)
        case 12 where !isSuccess && Self.name(name, is: "content-type"):
            // Only error messages quote it: a successful answer keeps no copy.
            contentType = String(decoding: Self.value(line, after: colon), as: UTF8.self)
        case 8 where Self.name(name, is: "location"):
            location = String(decoding: Self.value(line, after: colon), as: UTF8.self)
        case 11 where Self.name(name, is: "retry-after"):
            retryAfter = String(decoding: Self.value(line, after: colon), as: UTF8.self)
        default:
            break
        }
        return true
    }

    /// "HTTP/1.1 2xx ..." or "HTTP/2 2xx".
    private static func isSuccessStatusLine(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let space = line.firstIndex(of: UInt8(ascii: " ")), space + 1 < line.count else { return false }
        return line[space + 1] == UInt8(ascii: "2")
    }

    /// Header names compare without regard to ASCII case.
    private static func name(_ bytes: UnsafeRawBufferPointer, is lowercased: StaticString) -> Bool {
        guard bytes.count == lowercased.utf8CodeUnitCount else { return false }
        let expected = lowercased.utf8Start
        for index in 0..<bytes.count {
            let byte = bytes[index]
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if folded != expected[index] { return false }
        }
        return true
    }

    /// The value after the colon at `colon`, without surrounding blanks and
    /// the line's CR LF.
    private static func value(_ line: UnsafeRawBufferPointer, after colon: Int) -> UnsafeRawBufferPointer {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var first = colon + 1
        var end = line.count
        while first < end && isSpace(line[first]) { first += 1 }
        while end > first && isSpace(line[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: line[first..<end])
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
