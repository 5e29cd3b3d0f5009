import CJansson

/// Checks a parsed body against a ``Schema`` before any typed view reads it.
///
/// The message names the first offending field by its path from the root,
/// e.g. `field "connection.errors[0].type": expected string, got number`.
enum SchemaValidation {
    /// Nesting deeper than this is refused rather than followed: a hostile
    /// `causedByError` chain must not exhaust the stack.
    static let maximumDepth = 64

    static func validate(_ value: UnsafeMutablePointer<json_t>, as schema: Schema) -> String? {
        let kind = JSONKind(of: value)
        guard kind == .object else {
            return "expected a JSON object, got \(kind == .null ? "null" : kind.description)"
        }
        return validateObject(value, as: schema, path: "", depth: 0)
    }

    private static func validateObject(_ object: UnsafeMutablePointer<json_t>, as schema: Schema,
                                       path: String, depth: Int) -> String? {
        guard depth < maximumDepth else {
            return "field \"\(path)\": nested deeper than \(maximumDepth) levels"
        }
        for name in schema.required where member(object, name) == nil {
            return "field \"\(join(path, name))\": required, missing"
        }
        for (name, type) in schema.fields {
            guard let member = member(object, name) else { continue }
            if let problem = validate(member, as: type, path: join(path, name), depth: depth + 1) {
                return problem
            }
        }
        return nil
    }

    private static func validate(_ value: UnsafeMutablePointer<json_t>, as type: Schema.FieldType,
                                 path: String, depth: Int) -> String? {
        let kind = JSONKind(of: value)
        func mismatch(_ expected: String) -> String {
            "field \"\(path)\": expected \(expected), got \(kind)"
        }
        switch type {
        case .string: return kind == .string ? nil : mismatch("string")
        case .number: return kind == .number ? nil : mismatch("number")
        case .boolean: return kind == .boolean ? nil : mismatch("boolean")
        case .object: return kind == .object ? nil : mismatch("object")
        case .model(let schema):
            guard kind == .object else { return mismatch("object") }
            return validateObject(value, as: schema, path: path, depth: depth)
        case .arrayOfObjects:
            guard kind == .array else { return mismatch("array") }
            return validateElements(of: value, path: path) { element, elementPath in
                JSONKind(of: element) == .object
                    ? nil : "field \"\(elementPath)\": expected object, got \(JSONKind(of: element))"
            }
        case .arrayOf(let schema):
            guard kind == .array else { return mismatch("array") }
            return validateElements(of: value, path: path) { element, elementPath in
                validate(element, as: .model(schema), path: elementPath, depth: depth + 1)
            }
        case .mapOf(let schema):
            guard kind == .object else { return mismatch("object") }
            var iterator = json_object_iter(value)
            while let current = iterator {
                if let key = json_object_iter_key(current), let element = json_object_iter_value(current),
                   let problem = validate(element, as: .model(schema),
                                          path: join(path, String(cString: key)), depth: depth + 1) {
                    return problem
                }
                iterator = json_object_iter_next(value, current)
            }
            return nil
        }
    }

    /// The first problem `check` finds among an array's elements.
    private static func validateElements(
        of array: UnsafeMutablePointer<json_t>, path: String,
        _ check: (UnsafeMutablePointer<json_t>, String) -> String?
    ) -> String? {
        for index in 0..<json_array_size(array) {
            guard let element = json_array_get(array, index) else { continue }
            if let problem = check(element, "\(path)[\(index)]") { return problem }
        }
        return nil
    }

    /// A present, non-null member.
    private static func member(_ object: UnsafeMutablePointer<json_t>, _ name: String) -> UnsafeMutablePointer<json_t>? {
        guard let value = json_object_get(object, name), value.pointee.type != JSON_NULL else { return nil }
        return value
    }

    private static func join(_ path: String, _ name: String) -> String {
        path.isEmpty ? name : "\(path).\(name)"
    }
}
