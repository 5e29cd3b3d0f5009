import CCurl

/// The API's base URL, checked once when a client is made.
///
/// It must be an absolute http:// or https:// URL with a host, and no query,
/// fragment or credentials (a query would swallow the selector's path, and
/// credentials in a URL end up in logs). A trailing `/` is dropped so that
/// paths join cleanly.
struct APIURL: Sendable, Equatable {
    let string: String

    static let `default` = "https://api.getmembrane.com"

    init(_ text: String) throws(MembraneError) {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw .invalidArgument("the API URL is empty or holds spaces or control characters")
        }
        let lowered = text.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw .invalidArgument("the API URL must start with http:// or https://")
        }
        guard let url = curl_url() else {
            throw MembraneError(code: .internal, message: "out of memory")
        }
        defer { curl_url_cleanup(url) }
        guard curl_url_set(url, CURLUPART_URL, text, 0) == CURLUE_OK else {
            throw .invalidArgument("the API URL is not a valid URL")
        }
        func has(_ part: CURLUPart) -> Bool {
            var value: UnsafeMutablePointer<CChar>?
            let code = curl_url_get(url, part, &value, 0)
            curl_free(value)
            return code == CURLUE_OK
        }
        guard has(CURLUPART_HOST) else {
            throw .invalidArgument("the API URL has no host")
        }
        guard !has(CURLUPART_QUERY), !has(CURLUPART_FRAGMENT) else {
            throw .invalidArgument("the API URL must not have a query or fragment")
        }
        guard !has(CURLUPART_USER), !has(CURLUPART_PASSWORD) else {
            throw .invalidArgument("the API URL must not hold credentials; pass the token instead")
        }
        var trimmed = Substring(text)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        string = String(trimmed)
    }
}
