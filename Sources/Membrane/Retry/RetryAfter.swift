import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `Retry-After` header: a number of seconds, or an HTTP date.
enum RetryAfter {
    /// How long the server asks us to wait, in milliseconds; nil when the
    /// header is absent or unreadable. A date in the past means no wait.
    static func milliseconds(_ value: String?) -> Int? {
        guard let value = value?.trimmingWhitespace(), !value.isEmpty else { return nil }
        if value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // Absurdly long waits saturate; the deadline ends the call anyway.
            guard let seconds = Int(value), seconds <= Int.max / 1000 else { return Int.max }
            return seconds * 1000
        }
        // libcurl parses the three HTTP date formats (RFC 9110 5.6.7).
        let date = curl_getdate(value, nil)
        guard date >= 0 else { return nil }
        let now = time(nil)
        return date <= now ? 0 : Int(date - now) * 1000
    }
}
