import CJansson

/// The JSON types the API's schema speaks of. jansson's integer and real are
/// both `number`; its true and false are both `boolean`.
enum JSONKind: Sendable, CustomStringConvertible {
    case string, number, boolean, object, array, null

    init(of value: UnsafeMutablePointer<json_t>) {
        switch value.pointee.type {
        case JSON_OBJECT: self = .object
        case JSON_ARRAY: self = .array
        case JSON_STRING: self = .string
        case JSON_INTEGER, JSON_REAL: self = .number
        case JSON_TRUE, JSON_FALSE: self = .boolean
        default: self = .null
        }
    }

    var description: String {
        switch self {
        case .string: "string"
        case .number: "number"
        case .boolean: "boolean"
        case .object: "object"
        case .array: "array"
        case .null: "null"
        }
    }
}
