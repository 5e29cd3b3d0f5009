#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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

    /// One known field: its name (also as a C string, made once, for
    /// jansson's lookups), its type, and whether it must be present.
    struct Field: @unchecked Sendable {
        let name: String
        let cName: UnsafePointer<CChar>
        let type: FieldType
        let isRequired: Bool

        init(_ name: String, _ type: FieldType, required: Bool = false) {
            self.name = name
            self.type = type
            isRequired = required
            // Lives as long as the static tables that hold it: the process.
            // Out of memory this early, "" only makes the field look absent.
            cName = strdup(name).map { UnsafePointer($0) } ?? Field.empty
        }

        /// "", in static storage.
        nonisolated(unsafe) private static let empty = UnsafeRawPointer(("" as StaticString).utf8Start)
            .assumingMemoryBound(to: CChar.self)
    }

    /// The known fields, built once (validation runs on every lookup).
    var fields: [Field] {
        switch self {
        case .integration: Schema.integrationFields
        case .connection: Schema.connectionFields
        case .errorData: Schema.errorDataFields
        case .clientAction: Schema.clientActionFields
        case .optionsConfigEntry: Schema.optionsConfigEntryFields
        case .integrationPage: Schema.integrationPageFields
        }
    }

    private static let integrationFields: [Field] = [
        Field("name", .string, required: true),
        Field("id", .string), Field("logoUri", .string), Field("uuid", .string), Field("key", .string),
        Field("description", .string), Field("meta", .object), Field("state", .string),
        Field("errors", .arrayOf(.errorData)), Field("revision", .string), Field("createdAt", .string),
        Field("updatedAt", .string), Field("archivedAt", .string), Field("isDeactivated", .boolean),
        Field("isReadOnly", .boolean), Field("connectorId", .string), Field("connectorVersion", .string),
        Field("oAuthCallbackUri", .string), Field("parameters", .object),
        Field("hasMissingParameters", .boolean), Field("hasDocumentation", .boolean),
        Field("hasOperations", .boolean), Field("operationsCount", .number), Field("hasData", .boolean),
        Field("dataCollectionsCount", .number), Field("hasEvents", .boolean), Field("eventsCount", .number),
        Field("hasGlobalWebhooks", .boolean), Field("hasUdm", .boolean), Field("isTest", .boolean),
        Field("externalAppId", .string), Field("authType", .string),
        Field("optionsConfig", .mapOf(.optionsConfigEntry)), Field("connection", .model(.connection)),
        Field("spec", .object), Field("appUri", .string), Field("isConnected", .boolean),
    ]

    private static let connectionFields: [Field] = [
        Field("id", .string), Field("name", .string), Field("userId", .string), Field("tenantId", .string),
        Field("type", .string), Field("key", .string), Field("isTest", .boolean), Field("connected", .boolean),
        Field("disconnected", .boolean), Field("isDefunct", .boolean), Field("state", .string),
        Field("errors", .arrayOf(.errorData)), Field("requestError", .model(.errorData)),
        Field("error", .model(.errorData)), Field("integrationId", .string), Field("connectorId", .string),
        Field("externalAppId", .string), Field("connectorVersion", .string), Field("authOptionKey", .string),
        Field("createdAt", .string), Field("updatedAt", .string), Field("lastActiveAt", .string),
        Field("nextCredentialsRefreshAt", .string), Field("nextRetryTimestamp", .string),
        Field("retryAttempts", .number), Field("canTest", .boolean), Field("canRefreshCredentials", .boolean),
        Field("archivedAt", .string), Field("isDeactivated", .boolean), Field("meta", .object),
        Field("buildingAgentSessionId", .string), Field("clientAction", .model(.clientAction)),
    ]

    private static let errorDataFields: [Field] = [
        Field("type", .string), Field("key", .string), Field("message", .string), Field("data", .object),
        Field("stack", .object), Field("causedByError", .model(.errorData)), Field("logs", .arrayOfObjects),
    ]

    private static let clientActionFields: [Field] = [
        Field("type", .string), Field("description", .string), Field("uiUrl", .string),
        Field("agentInstructions", .string), Field("handoffAgentInstructions", .string),
    ]

    private static let integrationPageFields: [Field] = [
        Field("items", .arrayOf(.integration), required: true), Field("cursor", .string),
    ]

    private static let optionsConfigEntryFields: [Field] = [
        Field("disabled", .boolean), Field("parameters", .object),
    ]
}
