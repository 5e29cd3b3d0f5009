import CJansson
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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
        // The common case first: one pass over the members that only says
        // yes or no. The ordered pass below names the first problem.
        if conforms(value, to: schema, depth: 0) { return nil }
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

    // MARK: The fast pass

    /// A schema's fields by the length of their names, and which must be
    /// present: matching a member is a length check and a memcmp.
    private struct FieldIndex {
        let fields: [Schema.Field]
        let byLength: [[Int]]
        let requiredMask: UInt64
        /// More than 64 fields do not fit the masks: the ordered pass only.
        let usable: Bool

        init(_ schema: Schema) {
            fields = schema.fields
            var byLength: [[Int]] = []
            var required: UInt64 = 0
            for (index, field) in fields.enumerated() {
                let length = strlen(field.cName)
                while byLength.count <= length { byLength.append([]) }
                byLength[length].append(index)
                if field.isRequired && index < 64 { required |= 1 << UInt64(index) }
            }
            self.byLength = byLength
            requiredMask = required
            usable = fields.count <= 64
        }

        static let integration = FieldIndex(.integration)
        static let connection = FieldIndex(.connection)
        static let errorData = FieldIndex(.errorData)
        static let clientAction = FieldIndex(.clientAction)
        static let optionsConfigEntry = FieldIndex(.optionsConfigEntry)
        static let integrationPage = FieldIndex(.integrationPage)

        static func of(_ schema: Schema) -> FieldIndex {
            switch schema {
            case .integration: integration
            case .connection: connection
            case .errorData: errorData
            case .clientAction: clientAction
            case .optionsConfigEntry: optionsConfigEntry
            case .integrationPage: integrationPage
            }
        }
    }

    /// Whether `object` matches `schema`, by one walk over its members (no
    /// lookups by name); the same rules and depths as `validateObject`.
    private static func conforms(_ object: UnsafeMutablePointer<json_t>, to schema: Schema, depth: Int) -> Bool {
        guard depth < maximumDepth else { return false }
        let index = FieldIndex.of(schema)
        guard index.usable else { return false }
        var seen: UInt64 = 0
        var iterator = json_object_iter(object)
        while let current = iterator {
            let length = json_object_iter_key_len(current)
            if length < index.byLength.count, let key = json_object_iter_key(current) {
                for fieldIndex in index.byLength[length] where memcmp(index.fields[fieldIndex].cName, key, length) == 0 {
                    if let value = json_object_iter_value(current), value.pointee.type != JSON_NULL {
                        seen |= 1 << UInt64(fieldIndex)
                        guard conforms(value, to: index.fields[fieldIndex].type, depth: depth + 1) else { return false }
                    }
                    break
                }
            }
            iterator = json_object_iter_next(object, current)
        }
        return seen & index.requiredMask == index.requiredMask
    }

    private static func conforms(_ value: UnsafeMutablePointer<json_t>, to type: Schema.FieldType, depth: Int) -> Bool {
        let kind = JSONKind(of: value)
        switch type {
        case .string: return kind == .string
        case .number: return kind == .number
        case .boolean: return kind == .boolean
        case .object: return kind == .object
        case .model(let schema):
            return kind == .object && conforms(value, to: schema, depth: depth)
        case .arrayOfObjects:
            guard kind == .array else { return false }
            for position in 0..<json_array_size(value) {
                guard let element = json_array_get(value, position), JSONKind(of: element) == .object else { return false }
            }
            return true
        case .arrayOf(let schema):
            guard kind == .array else { return false }
            for position in 0..<json_array_size(value) {
                guard let element = json_array_get(value, position), JSONKind(of: element) == .object,
                      conforms(element, to: schema, depth: depth + 1) else { return false }
            }
            return true
        case .mapOf(let schema):
            guard kind == .object else { return false }
            var iterator = json_object_iter(value)
            while let current = iterator {
                if let element = json_object_iter_value(current) {
                    guard JSONKind(of: element) == .object, conforms(element, to: schema, depth: depth + 1) else { return false }
                }
                iterator = json_object_iter_next(value, current)
            }
            return true
        }
    }
}
