import CJansson

/// An integration, as `GET /integrations/{selector}` returns it.
///
/// A typed view over the parsed response: every property reads the same
/// jansson tree the C API hands out, and ``json`` is that tree, unknown fields
/// included. Optional properties are `nil` when the API left the field out.
public struct Integration: Sendable {
    let object: JSONObjectView

    /// Validates `json` against the schema and wraps it.
    ///
    /// - Throws: ``MembraneError`` with code `.protocolError` naming the first
    ///   field that is missing or of the wrong type.
    public init(json: JSONValue) throws(MembraneError) {
        try SchemaValidation.check(json, as: .integration)
        object = JSONObjectView(owner: json, pointer: json.pointer)
    }

    /// An integration inside a tree that was validated as a whole (a page).
    init(validated object: JSONObjectView) {
        self.object = object
    }

    /// The integration object, exactly as the API sent it (for an integration
    /// read from a page, its element of the page's tree).
    public var json: JSONValue {
        object.pointer == object.owner.pointer ? object.owner : JSONValue(retaining: object.pointer)
    }

    /// A new reference to the integration object, for the C API.
    public func retainedPointer() -> UnsafeMutablePointer<json_t> {
        json_incref(object.pointer) ?? object.pointer
    }

    public var id: String? { object.string("id") }
    /// Display name; always present.
    public var name: String { object.string("name") ?? "" }
    public var logoUri: String? { object.string("logoUri") }
    public var uuid: String? { object.string("uuid") }
    public var key: String? { object.string("key") }
    public var description: String? { object.string("description") }
    public var state: State? { object.string("state").map(State.init(rawValue:)) }
    /// Validation or setup errors, when the state is not READY.
    public var errors: [ErrorData] { object.objects("errors").map(ErrorData.init) }
    public var revision: String? { object.string("revision") }
    public var createdAt: String? { object.string("createdAt") }
    public var updatedAt: String? { object.string("updatedAt") }
    public var archivedAt: String? { object.string("archivedAt") }
    public var isDeactivated: Bool? { object.bool("isDeactivated") }
    public var isReadOnly: Bool? { object.bool("isReadOnly") }
    public var connectorId: String? { object.string("connectorId") }
    public var connectorVersion: String? { object.string("connectorVersion") }
    public var oAuthCallbackUri: String? { object.string("oAuthCallbackUri") }
    public var hasMissingParameters: Bool? { object.bool("hasMissingParameters") }
    public var hasDocumentation: Bool? { object.bool("hasDocumentation") }
    public var hasOperations: Bool? { object.bool("hasOperations") }
    public var operationsCount: Int? { object.int("operationsCount") }
    public var hasData: Bool? { object.bool("hasData") }
    public var dataCollectionsCount: Int? { object.int("dataCollectionsCount") }
    public var hasEvents: Bool? { object.bool("hasEvents") }
    public var eventsCount: Int? { object.int("eventsCount") }
    public var hasGlobalWebhooks: Bool? { object.bool("hasGlobalWebhooks") }
    public var hasUdm: Bool? { object.bool("hasUdm") }
    public var isTest: Bool? { object.bool("isTest") }
    public var externalAppId: String? { object.string("externalAppId") }
    public var authType: AuthType? { object.string("authType").map(AuthType.init(rawValue:)) }
    /// The tenant's connection to this integration, if it has one.
    public var connection: Connection? { object.object("connection").map(Connection.init) }
    /// Parameters, secrets masked unless the lookup asked for them. Any JSON.
    public var parameters: JSONValue? { object.value("parameters") }
    public var meta: JSONValue? { object.value("meta") }
    public var spec: JSONValue? { object.value("spec") }
    public var optionsConfig: JSONValue? { object.value("optionsConfig") }
}
