import CJansson

/// Typed, read-only access to the members of one JSON object inside a parsed
/// tree. It keeps the tree's owner alive, so views can outlive the call that
/// made them.
///
/// Accessors return `nil` for a member that is absent, `null`, or of another
/// type; the model's validation has already rejected wrong types for the
/// fields it knows, so for those `nil` means absent.
public struct JSONObjectView: @unchecked Sendable {
    /// The tree this object belongs to.
    public let owner: JSONValue
    /// The object itself. Borrowed from `owner`.
    public let pointer: UnsafeMutablePointer<json_t>

    init(owner: JSONValue, pointer: UnsafeMutablePointer<json_t>) {
        self.owner = owner
        self.pointer = pointer
    }

    /// The member named `key`, of any type. Borrowed from `owner`.
    func member(_ key: String) -> UnsafeMutablePointer<json_t>? {
        guard let value = json_object_get(pointer, key), value.pointee.type != JSON_NULL else {
            return nil
        }
        return value
    }

    func string(_ key: String) -> String? {
        guard let value = member(key), value.pointee.type == JSON_STRING,
              let bytes = json_string_value(value) else { return nil }
        let buffer = UnsafeRawBufferPointer(start: bytes, count: json_string_length(value))
        return String(decoding: buffer, as: UTF8.self)
    }

    func bool(_ key: String) -> Bool? {
        guard let value = member(key) else { return nil }
        switch value.pointee.type {
        case JSON_TRUE: return true
        case JSON_FALSE: return false
        default: return nil
        }
    }

    /// A `number` member as an integer, when it holds a whole number that fits.
    func int(_ key: String) -> Int? {
        guard let value = member(key) else { return nil }
        switch value.pointee.type {
        case JSON_INTEGER: return Int(exactly: json_integer_value(value))
        case JSON_REAL: return Int(exactly: json_real_value(value))
        default: return nil
        }
    }

    func object(_ key: String) -> JSONObjectView? {
        guard let value = member(key), value.pointee.type == JSON_OBJECT else { return nil }
        return JSONObjectView(owner: owner, pointer: value)
    }

    /// The objects of an array member; elements of other types are skipped.
    func objects(_ key: String) -> [JSONObjectView] {
        guard let array = member(key), array.pointee.type == JSON_ARRAY else { return [] }
        return (0..<json_array_size(array)).compactMap { index in
            guard let element = json_array_get(array, index), element.pointee.type == JSON_OBJECT else {
                return nil
            }
            return JSONObjectView(owner: owner, pointer: element)
        }
    }

    /// A member as its own reference-counted value, for callers that want the
    /// raw JSON (e.g. `parameters`, `meta`, `spec`).
    func value(_ key: String) -> JSONValue? {
        member(key).map { JSONValue(retaining: $0) }
    }
}
