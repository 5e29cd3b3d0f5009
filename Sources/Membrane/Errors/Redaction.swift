/// Text from a server made fit to show a person: servers and proxies may echo
/// what they were sent, and the token must never come back out; control
/// characters (newlines, terminal escapes) become spaces.
enum Redaction {
    /// A token shorter than 8 bytes is not searched for: it would match inside
    /// ordinary words ("t" in "Failed to connect") and is no real secret.
    static func clean(_ text: String, hiding secret: String) -> String {
        var text = text
        if secret.utf8.count >= 8 && text.contains(secret) {
            text = text.replacing(secret, with: "[redacted]")
        }
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            scalar.value < 0x20 || scalar.value == 0x7F ? " " : scalar
        }))
    }
}
