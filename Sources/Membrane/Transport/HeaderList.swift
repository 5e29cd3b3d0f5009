import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A libcurl header list, built once and shared read-only by every transfer
/// that uses it (libcurl only reads it). It carries the token, so its lines
/// are wiped before they are freed.
final class HeaderList: @unchecked Sendable {
    let list: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) {
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            list = curl_slist_append(list, line)
        }
        self.list = list
    }

    deinit {
        var node = list
        while let current = node {
            if let data = current.pointee.data {
                explicit_bzero(data, strlen(data))
            }
            node = current.pointee.next
        }
        curl_slist_free_all(list)
    }
}
