import CJansson
import Membrane

/// A failed element of a batch, as the C API hands it out.
enum BatchErrorEntry {
    /// `{"error": {"code", "http_status", "type", "key", "message", "error_id"}}`:
    /// a failed element of a batch. New reference, or NULL when out of memory.
    static func make(_ error: MembraneError) -> UnsafeMutablePointer<json_t>? {
        guard let detail = json_object(), let entry = json_object() else { return nil }
        _ = json_object_set_new(detail, "code", json_integer(json_int_t(error.code.rawValue)))
        _ = json_object_set_new(detail, "http_status", json_integer(json_int_t(error.httpStatus)))
        _ = json_object_set_new(detail, "type", json_string(error.type))
        _ = json_object_set_new(detail, "key", json_string(error.key))
        _ = json_object_set_new(detail, "message", json_string(error.message))
        _ = json_object_set_new(detail, "error_id", json_string(error.errorId))
        _ = json_object_set_new(entry, "error", detail)
        return entry
    }
}
