import CJansson
import Membrane

/// jansson values the C API builds for its callers.
enum JSONBuilding {
    /// `{"error": {"code", "http_status", "type", "key", "message", "error_id"}}`:
    /// a failed element of a batch. New reference, or NULL when out of memory.
    static func errorEntry(_ error: MembraneError) -> UnsafeMutablePointer<json_t>? {
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

    /// A query object's members as name/value text, or why it cannot be one.
    static func queryParameters(_ query: UnsafePointer<json_t>) -> Result<[(name: String, value: String)], MembraneError> {
        let object = UnsafeMutablePointer(mutating: query)
        guard object.pointee.type == JSON_OBJECT else {
            return .failure(MembraneError(code: .invalidArgument, message: "query must be a JSON object"))
        }
        var parameters: [(name: String, value: String)] = []
        var iterator = json_object_iter(object)
        while let current = iterator {
            guard let key = json_object_iter_key(current), let value = json_object_iter_value(current) else { break }
            let name = String(cString: key)
            let text: String
            switch value.pointee.type {
            case JSON_STRING:
                text = String(decoding: UnsafeRawBufferPointer(start: json_string_value(value),
                                                               count: json_string_length(value)), as: UTF8.self)
            case JSON_INTEGER: text = String(json_integer_value(value))
            case JSON_REAL: text = String(json_real_value(value))
            case JSON_TRUE: text = "true"
            case JSON_FALSE: text = "false"
            default:
                return .failure(MembraneError(code: .invalidArgument,
                                              message: "query parameter \"\(name)\" must be a string, number or boolean"))
            }
            parameters.append((name, text))
            iterator = json_object_iter_next(object, current)
        }
        return .success(parameters)
    }
}
