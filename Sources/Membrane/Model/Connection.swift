/// A tenant's connection to an integration (`Integration.connection`).
/// A typed view over the same jansson tree as its integration.
public struct Connection: Sendable {
    let object: JSONObjectView

    init(_ object: JSONObjectView) {
        self.object = object
    }

    /// The connection object as the API sent it.
    public var json: JSONValue? { JSONValue(retaining: object.pointer) }

    public var id: String? { object.string("id") }
    public var name: String? { object.string("name") }
    public var userId: String? { object.string("userId") }
    public var tenantId: String? { object.string("tenantId") }
    /// `connector` or `mcp`, per the OpenAPI document.
    public var type: String? { object.string("type") }
    public var key: String? { object.string("key") }
    public var isTest: Bool? { object.bool("isTest") }
    public var connected: Bool? { object.bool("connected") }
    @available(*, deprecated, message: "the API deprecates it: use connected")
    public var disconnected: Bool? { object.bool("disconnected") }
    public var isDefunct: Bool? { object.bool("isDefunct") }
    public var state: State? { object.string("state").map(State.init(rawValue:)) }
    public var errors: [ErrorData] { object.objects("errors").map(ErrorData.init) }
    public var requestError: ErrorData? { object.object("requestError").map(ErrorData.init) }
    @available(*, deprecated, message: "the API deprecates it: use requestError and errors")
    public var error: ErrorData? { object.object("error").map(ErrorData.init) }
    public var integrationId: String? { object.string("integrationId") }
    public var connectorId: String? { object.string("connectorId") }
    public var externalAppId: String? { object.string("externalAppId") }
    public var connectorVersion: String? { object.string("connectorVersion") }
    public var authOptionKey: String? { object.string("authOptionKey") }
    public var createdAt: String? { object.string("createdAt") }
    public var updatedAt: String? { object.string("updatedAt") }
    public var lastActiveAt: String? { object.string("lastActiveAt") }
    public var nextCredentialsRefreshAt: String? { object.string("nextCredentialsRefreshAt") }
    public var nextRetryTimestamp: String? { object.string("nextRetryTimestamp") }
    public var retryAttempts: Int? { object.int("retryAttempts") }
    public var canTest: Bool? { object.bool("canTest") }
    public var canRefreshCredentials: Bool? { object.bool("canRefreshCredentials") }
    public var archivedAt: String? { object.string("archivedAt") }
    public var isDeactivated: Bool? { object.bool("isDeactivated") }
    public var meta: JSONValue? { object.value("meta") }
    public var buildingAgentSessionId: String? { object.string("buildingAgentSessionId") }
    /// What the user must do; present exactly when the state is CLIENT_ACTION_REQUIRED.
    public var clientAction: ClientAction? { object.object("clientAction").map(ClientAction.init) }
}
