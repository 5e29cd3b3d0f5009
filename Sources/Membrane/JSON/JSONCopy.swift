import CJansson

/// A deep copy of a tree the library parsed itself, for cache hits: every
/// caller gets a tree of its own.
///
/// jansson's `json_deep_copy` (2.14) guards against cycles by formatting
/// each container's address into a string and hashing it into a set; a tree
/// made by `json_loads` has no cycles, and skipping that is a fifth of the
/// copy's cost. Strings keep their length (they may hold NUL).
/// Returns nil when an allocation fails (nothing is leaked then).
func copyParsedTree(_ value: UnsafeMutablePointer<json_t>) -> UnsafeMutablePointer<json_t>? {
    switch value.pointee.type {
    case JSON_OBJECT:
        guard let copy = json_object() else { return nil }
        var iterator = json_object_iter(value)
        while let current = iterator {
            guard let key = json_object_iter_key(current), let member = json_object_iter_value(current),
                  let memberCopy = copyParsedTree(member),
                  json_object_setn_new_nocheck(copy, key, json_object_iter_key_len(current), memberCopy) == 0
            else {
                json_decref(copy)
                return nil
            }
            iterator = json_object_iter_next(value, current)
        }
        return copy
    case JSON_ARRAY:
        guard let copy = json_array() else { return nil }
        for index in 0..<json_array_size(value) {
            guard let element = json_array_get(value, index), let elementCopy = copyParsedTree(element),
                  json_array_append_new(copy, elementCopy) == 0
            else {
                json_decref(copy)
                return nil
            }
        }
        return copy
    case JSON_STRING:
        return json_stringn_nocheck(json_string_value(value), json_string_length(value))
    case JSON_INTEGER:
        return json_integer(json_integer_value(value))
    case JSON_REAL:
        return json_real(json_real_value(value))
    default:
        // true, false and null: jansson's shared constants.
        return json_incref(value)
    }
}
