/// A complete HTTP answer: status, the few headers the client acts on, and
/// the body as libcurl delivered it (already decompressed).
struct HTTPResponse: Sendable {
    var status: Int
    var body: [UInt8]
    var contentType: String?
    var location: String?
    var retryAfter: String?
}
