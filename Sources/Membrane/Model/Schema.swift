/// The shape of the API's integration response, as the vendor's OpenAPI
/// document defines it (`../shared/api/integration.schema.json`).
///
/// Only what matters for safety is checked: the body is an object with a
/// string `name`, and each known field that is present has its documented
/// type. Unknown fields are ignored (the API grows), enum values are not
/// checked (enums grow too), and `null` counts as absent for optional fields.
enum Schema: Sendable {
    case integration, connection, errorData, clientAction, optionsConfigEntry
    /// One page of `GET /integrations`: `{items, cursor}`.
    case integrationPage

    /// Not recursive on purpose: an `indirect` enum would box its payloads on
    /// the heap, and boxes held by these static tables look leaked to valgrind.
    enum FieldType: Sendable {
        case string, number, boolean
        /// An object whose members may hold any JSON values.
        case object
        /// An array of objects whose members may hold any JSON values (`logs`).
        case arrayOfObjects
        case arrayOf(Schema)
        /// An object of objects, e.g. `optionsConfig`.
        case mapOf(Schema)
        case model(Schema)
    }

    var required: [String] {
        switch self {
        case .integration: ["name"]
        case .integrationPage: ["items"]
        default: []
        }
    }

    /// The known fields, built once (validation runs on every lookup).
    var fields: [(name: String, type: FieldType)] {
        switch self {
        case .integration: Schema.integrationFields
        case .connection: Schema.connectionFields
        case .errorData: Schema.errorDataFields
        case .clientAction: Schema.clientActionFields
        case .optionsConfigEntry: Schema.optionsConfigEntryFields
        case .integrationPage: Schema.integrationPageFields
        }
    }

    private static let integrationFields: [(name: String, type: FieldType)] = [
                ("id", .string), ("name", .string), ("logoUri", .string), ("uuid", .string),
                ("key", .string), ("description", .string), ("meta", .object), ("state", .string),
                ("errors", .arrayOf(.errorData)), ("revision", .string),
                ("createdAt", .string), ("updatedAt", .string), ("archivedAt", .string),
                ("isDeactivated", .boolean), ("isReadOnly", .boolean), ("connectorId", .string),
                ("connectorVersion", .string), ("oAuthCallbackUri", .string), ("parameters", .object),
                ("hasMissingParameters", .boolean), ("hasDocumentation", .boolean),
                ("hasOperations", .boolean), ("operationsCount", .number), ("hasData", .boolean),
                ("dataCollectionsCount", .number), ("hasEvents", .boolean), ("eventsCount", .number),
                ("hasGlobalWebhooks", .boolean), ("hasUdm", .boolean), ("isTest", .boolean),
                ("externalAppId", .string), ("authType", .string),
                ("optionsConfig", .mapOf(.optionsConfigEntry)),
                ("connection", .model(.connection)), ("spec", .object), ("appUri", .string),
                ("isConnected", .boolean),
            ]
    private static let connectionFields: [(name: String, type: FieldType)] = [
                ("id", .string), ("name", .string), ("userId", .string), ("tenantId", .string),
                ("type", .string), ("key", .string), ("isTest", .boolean), ("connected", .boolean),
                ("disconnected", .boolean), ("isDefunct", .boolean), ("state", .string),
                ("errors", .arrayOf(.errorData)), ("requestError", .model(.errorData)),
                ("error", .model(.errorData)), ("integrationId", .string), ("connectorId", .string),
                ("externalAppId", .string), ("connectorVersion", .string), ("authOptionKey", .string),
                ("createdAt", .string), ("updatedAt", .string), ("lastActiveAt", .string),
                ("nextCredentialsRefreshAt", .string), ("nextRetryTimestamp", .string),
                ("retryAttempts", .number), ("canTest", .boolean), ("canRefreshCredentials", .boolean),
                ("archivedAt", .string), ("isDeactivated", .boolean), ("meta", .object),
                ("buildingAgentSessionId", .string), ("clientAction", .model(.clientAction)),
            ]
    private static let errorDataFields: [(name: String, type: FieldType)] = [
                ("type", .string), ("key", .string), ("message", .string), ("data", .object),
                ("stack", .object), ("causedByError", .model(.errorData)),
                ("logs", .arrayOfObjects),
            ]
    private static let clientActionFields: [(name: String, type: FieldType)] = [
                ("type", .string), ("description", .string), ("uiUrl", .string),
                ("agentInstructions", .string), ("handoffAgentInstructions", .string),
            ]
    private static let integrationPageFields: [(name: String, type: FieldType)] = [
        ("items", .arrayOf(.integration)), ("cursor", .string),
    ]
    private static let optionsConfigEntryFields: [(name: String, type: FieldType)] = [
        ("disabled", .boolean), ("parameters", .object),
    ]
}
