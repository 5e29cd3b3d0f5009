import CJansson
import CMembrane
import Membrane

/// The query object of the listing calls, read as the API's parameters.
enum ListingQuery {
    /// A query object's members as name/value text, or why it cannot be one.
    static func parameters(_ query: UnsafePointer<json_t>) -> Result<[(name: String, value: String)], MembraneError> {
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
