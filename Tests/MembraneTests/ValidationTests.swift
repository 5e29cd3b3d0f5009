import Testing
@testable import Membrane

@Suite("Schema validation")
struct ValidationTests {
    /// A body and the message its protocol error must hold.
    static let invalidBodies: [(body: String, message: String)] = [
        (#"[]"#, "expected a JSON object, got array"),
        (#""hello""#, "expected a JSON object, got string"),
        (#"{}"#, #"field "name": required, missing"#),
        (#"{"name": null}"#, #"field "name": required, missing"#),
        (#"{"name": 5}"#, #"field "name": expected string, got number"#),
        (#"{"name": "x", "state": 5}"#, #"field "state": expected string, got number"#),
        (#"{"name": "x", "isReadOnly": "yes"}"#, #"field "isReadOnly": expected boolean, got string"#),
        (#"{"name": "x", "operationsCount": "3"}"#, #"field "operationsCount": expected number, got string"#),
        (#"{"name": "x", "parameters": []}"#, #"field "parameters": expected object, got array"#),
        (#"{"name": "x", "errors": {}}"#, #"field "errors": expected array, got object"#),
        (#"{"name": "x", "errors": [{"message": "m"}, {"message": 1}]}"#, #"field "errors[1].message": expected string, got number"#),
        (#"{"name": "x", "connection": {"state": true}}"#, #"field "connection.state": expected string, got boolean"#),
        (#"{"name": "x", "connection": {"errors": [{"type": 5}]}}"#, #"field "connection.errors[0].type": expected string, got number"#),
        (#"{"name": "x", "connection": {"clientAction": {"type": []}}}"#, #"field "connection.clientAction.type": expected string, got array"#),
        (#"{"name": "x", "optionsConfig": {"a": {"disabled": "no"}}}"#, #"field "optionsConfig.a.disabled": expected boolean, got string"#),
        (#"{"name": "x", "errors": [{"message": "m", "causedByError": {"message": "n", "causedByError": 7}}]}"#,
         #"field "errors[0].causedByError.causedByError": expected object, got number"#),
    ]

    @Test("a body that breaks the schema is a protocol error naming the field", arguments: invalidBodies)
    func invalidBody(body: String, message: String) {
        #expect {
            try Integration(json: json(body))
        } throws: { error in
            guard let error = error as? MembraneError else { return false }
            return error.code == .protocolError && error.message.contains(message)
        }
    }

    @Test("unknown fields, unknown enum values and nulls in optional fields pass")
    func lenientWhereTheAPIGrows() throws {
        let integration = try Integration(json: json(#"""
            {"name": "x", "state": "SOMETHING_NEW", "authType": "passkey", "brandNew": {"a": [1]},
             "description": null, "connection": {"state": "READY", "futureField": 1}}
            """#))
        #expect(integration.state == .unknown("SOMETHING_NEW"))
        #expect(integration.authType == .unknown("passkey"))
        #expect(integration.description == nil)
        #expect(integration.connection?.state == .ready)
    }

    @Test("a hostile causedByError chain is refused, not followed to a stack overflow")
    func deepNesting() {
        let depth = 1_000  // jansson itself refuses more than 2048 levels
        let body = #"{"name": "x", "errors": ["# + String(repeating: #"{"message": "m", "causedByError": "#, count: depth)
            + #"{"message": "bottom"}"# + String(repeating: "}", count: depth) + "]}"
        #expect {
            try Integration(json: json(body))
        } throws: { error in
            (error as? MembraneError)?.message.contains("nested deeper than") == true
        }
    }
}
