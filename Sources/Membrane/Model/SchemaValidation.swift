import CJansson

/// Checks a parsed body against a ``Schema`` before any typed view reads it.
///
/// The message names the first offending field by its path from the root,
/// e.g. `field "connection.errors[0].type": expected string, got number`.
/// This runs on every lookup, so the success path builds no strings: the
/// path is put together only when there is a problem to report.
enum SchemaValidation {
    /// Nesting deeper than this is refused rather than followed: a hostile
    /// `causedByError` chain must not exhaust the stack.
    static let maximumDepth = 64

    /// Throws the protocol error a body that breaks `schema` means.
    static func check(_ json: JSONValue, as schema: Schema) throws(MembraneError) {
        if let problem = validate(json.pointer, as: schema) {
            throw MembraneError(code: .protocolError, message: "unexpected response: \(problem)")
        }
    }

    static func validate(_ value: UnsafeMutablePointer<json_t>, as schema: Schema) -> String? {
        let kind = JSONKind(of: value)
        guard kind == .object else {
            return "expected a JSON object, got \(kind)"
        }
        do {
            try validateObject(value, as: schema, depth: 0)
            return nil
        } catch {
            return "field \"\(error.path)\": \(error.detail)"
        }
    }

    /// What is wrong, and where: path components gathered innermost first
    /// while the recursion unwinds.
    private struct Problem: Error {
        var reversedComponents: [String]
        let detail: String

        init(_ detail: String, at component: String? = nil) {
            self.detail = detail
            reversedComponents = component.map { [$0] } ?? []
        }

        func within(_ component: String) -> Problem {
            var outer = self
            outer.reversedComponents.append(component)
            return outer
        }

        /// `connection.errors[0].type`: names joined by dots, indices attached.
        var path: String {
            var path = ""
            for component in reversedComponents.reversed() {
                if !path.isEmpty && !component.hasPrefix("[") { path += "." }
                path += component
            }
            return path
        }
    }

    private static func validateObject(_ object: UnsafeMutablePointer<json_t>, as schema: Schema,
                                       depth: Int) throws(Problem) {
        guard depth < maximumDepth else {
            throw Problem("nested deeper than \(maximumDepth) levels")
        }
        for field in schema.fields {
            guard let member = member(object, field.cName) else {
                if field.isRequired { throw Problem("required, missing", at: field.name) }
                continue
            }
            do {
                try validate(member, as: field.type, depth: depth + 1)
            } catch {
                throw error.within(field.name)
            }
        }
    }

    private static func validate(_ value: UnsafeMutablePointer<json_t>, as type: Schema.FieldType,
                                 depth: Int) throws(Problem) {
        let kind = JSONKind(of: value)
        func expect(_ expected: JSONKind) throws(Problem) {
            if kind != expected { throw Problem("expected \(expected), got \(kind)") }
        }
        switch type {
        case .string: try expect(.string)
        case .number: try expect(.number)
        case .boolean: try expect(.boolean)
        case .object: try expect(.object)
        case .model(let schema):
            try expect(.object)
            try validateObject(value, as: schema, depth: depth)
        case .arrayOfObjects:
            try expect(.array)
            try forEachElement(of: value) { element throws(Problem) in
                try validate(element, as: .object, depth: depth + 1)
            }
        case .arrayOf(let schema):
            try expect(.array)
            try forEachElement(of: value) { element throws(Problem) in
                try validate(element, as: .model(schema), depth: depth + 1)
            }
        case .mapOf(let schema):
            try expect(.object)
            var iterator = json_object_iter(value)
            while let current = iterator {
                if let key = json_object_iter_key(current), let element = json_object_iter_value(current) {
                    do {
                        try validate(element, as: .model(schema), depth: depth + 1)
                    } catch {
                        throw error.within(String(cString: key))
                    }
                }
                iterator = json_object_iter_next(value, current)
            }
        }
    }

    private static func forEachElement(of array: UnsafeMutablePointer<json_t>,
                                       _ check: (UnsafeMutablePointer<json_t>) throws(Problem) -> Void) throws(Problem) {
        for index in 0..<json_array_size(array) {
            guard let element = json_array_get(array, index) else { continue }
            do {
                try check(element)
            } catch {
                throw error.within("[\(index)]")
            }
        }
    }

    /// A present, non-null member.
    private static func member(_ object: UnsafeMutablePointer<json_t>, _ name: UnsafePointer<CChar>) -> UnsafeMutablePointer<json_t>? {
        guard let value = json_object_get(object, name), value.pointee.type != JSON_NULL else { return nil }
        return value
    }
}
