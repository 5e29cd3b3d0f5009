import CJansson

/// One owned reference to a jansson value.
///
/// The library parses each response once, with jansson, and every typed view
/// (``Integration``, ``Connection``, ...) reads from the same `json_t`. This
/// class is what keeps that tree alive: it releases its reference on `deinit`.
///
/// jansson's reference counts are atomic, and nothing here mutates the tree, so
/// a value may be read from many threads at once.
public final class JSONValue: @unchecked Sendable {
    /// The jansson value. Borrowed: valid while this object lives.
    public let pointer: UnsafeMutablePointer<json_t>

    /// Takes over a reference the caller owns (e.g. fresh from `json_loadb`).
    public init(owning pointer: UnsafeMutablePointer<json_t>) {
        self.pointer = pointer
    }

    /// Takes a new reference to a value someone else owns.
    public init(retaining pointer: UnsafeMutablePointer<json_t>) {
        self.pointer = json_incref(pointer) ?? pointer
    }

    deinit {
        json_decref(pointer)
    }

    /// A new reference for a caller who will release it with `json_decref`.
    public func retainedPointer() -> UnsafeMutablePointer<json_t> {
        json_incref(pointer) ?? pointer
    }

    /// Parses a complete JSON text (any value, not only objects).
    ///
    /// - Returns: the value, or jansson's description of the first error.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSONValue, JSONParseError> {
        var error = json_error_t()
        // jansson reads exactly `count` bytes; an empty buffer needs a valid pointer.
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        guard let base, bytes.count > 0 else {
            return .failure(JSONParseError(text: "empty body", position: 0))
        }
        // JSON_DECODE_ANY: a bare string or number is still JSON; the schema rejects it by name.
        guard let parsed = json_loadb(base, bytes.count, Int(JSON_DECODE_ANY), &error) else {
            let text = withUnsafeBytes(of: &error.text) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            return .failure(JSONParseError(text: text, position: Int(error.position)))
        }
        return .success(JSONValue(owning: parsed))
    }
}

/// Why a body is not JSON, as jansson reports it.
struct JSONParseError: Error, Sendable {
    let text: String
    let position: Int
}
