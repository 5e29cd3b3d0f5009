/// One page of `GET /integrations`: the integrations, and the cursor to pass
/// back for the next page (nil on the last page).
public struct IntegrationPage: Sendable {
    let object: JSONObjectView

    /// Validates `json` (an object with an `items` array of integrations and
    /// an optional string `cursor`) and wraps it.
    public init(json: JSONValue) throws(MembraneError) {
        try SchemaValidation.check(json, as: .integrationPage)
        object = JSONObjectView(owner: json, pointer: json.pointer)
    }

    /// The whole page, exactly as the API sent it.
    public var json: JSONValue { object.owner }

    /// The integrations on this page; views over the same tree.
    public var items: [Integration] {
        object.objects("items").map { Integration(validated: $0) }
    }

    /// The cursor for the next page; nil (or empty) when this is the last.
    public var cursor: String? {
        guard let cursor = object.string("cursor"), !cursor.isEmpty else { return nil }
        return cursor
    }
}
