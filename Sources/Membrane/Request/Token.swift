/// The API token, checked once when a client is made.
///
/// It goes into a header line, so a CR, LF or other control character would
/// let a caller's string forge headers: those are refused. The value is
/// opaque otherwise (a JWT in practice) and never printed.
struct Token: Sendable {
    let value: String

    static let maximumByteCount = 16 * 1024

    init(_ text: String) throws(MembraneError) {
        guard !text.isEmpty else {
            throw MembraneError(code: .notAuthenticated, message: "no API token: pass one or set MEMBRANE_TOKEN")
        }
        guard text.utf8.count <= Token.maximumByteCount else {
            throw .invalidArgument("the token is longer than \(Token.maximumByteCount) bytes")
        }
        guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
            throw .invalidArgument("the token holds control characters")
        }
        value = text
    }
}
