import CCurl

/// A libcurl header list, built once and shared read-only by every transfer
/// that uses it (libcurl only reads it).
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
        curl_slist_free_all(list)
    }
}
