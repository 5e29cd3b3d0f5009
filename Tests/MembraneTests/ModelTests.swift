import Testing
@testable import Membrane

@Suite("Model over the fixtures")
struct ModelTests {
    @Test("every fixture validates and keeps its name")
    func everyFixtureValidates() throws {
        let fixtures = try Fixtures.all()
        #expect(fixtures.count >= 10)
        for value in fixtures {
            let integration = try Integration(json: value)
            #expect(!integration.name.isEmpty)
            #expect(integration.json.pointer == value.pointer, "the view reads the same json_t, not a copy")
        }
    }

    @Test("fixtures cover every state, including one this version does not know")
    func statesCovered() throws {
        let states = Set(try Fixtures.all().compactMap { try Integration(json: $0).state })
        for known in [State.building, .clientActionRequired, .configurationError, .setupFailed, .ready, .disconnecting] {
            #expect(states.contains(known), "no fixture in state \(known.rawValue)")
        }
        #expect(states.contains(.unknown("SETTING_UP")))
    }

    @Test("HubSpot: ids, auth type, connection and counts")
    func hubspot() throws {
        let hubspot = try #require(try Fixtures.integration(key: "hubspot"))
        #expect(hubspot.id == "67c05c5f0872bad5078153b9")
        #expect(hubspot.uuid == "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c1a01")
        #expect(hubspot.name == "HubSpot")
        #expect(hubspot.state == .ready)
        #expect(hubspot.authType == .oauth2)
        let connection = try #require(hubspot.connection)
        #expect(connection.connected == true)
        #expect(connection.state == .ready)
        #expect(hubspot.operationsCount != nil)
        #expect(hubspot.parameters != nil)
    }

    @Test("a connection waiting for the user carries its client action")
    func clientAction() throws {
        let salesforce = try #require(try Fixtures.integration(key: "salesforce"))
        let connection = try #require(salesforce.connection)
        #expect(connection.state == .clientActionRequired)
        let action = try #require(connection.clientAction)
        #expect(action.type == .connect)
        #expect(action.description?.isEmpty == false)
    }

    @Test("nested causedByError is followed to the bottom")
    func nestedErrors() throws {
        let pipedrive = try #require(try Fixtures.integration(key: "pipedrive"))
        #expect(pipedrive.state == .setupFailed)
        let first = try #require(pipedrive.errors.first)
        #expect(first.type == .connection)
        #expect(!first.message.isEmpty)
        let cause = try #require(first.causedByError)
        #expect(cause.type == .dependencyError)
        #expect(cause.causedByError?.type == .internal)
        #expect(cause.causedByError?.causedByError == nil)
    }

    @Test("unknown enum values and unknown fields are kept")
    func unknownValuesKept() throws {
        let zendesk = try #require(try Fixtures.integration(key: "zendesk"))
        #expect(zendesk.state == .unknown("SETTING_UP"))
        #expect(zendesk.state?.rawValue == "SETTING_UP")
        #expect(zendesk.authType == .unknown("api-key-v2"))
        let raw = JSONObjectView(owner: zendesk.json, pointer: zendesk.json.pointer)
        #expect(raw.member("authOptions") != nil)
        #expect(raw.member("parametersSchema") != nil)
    }

    @Test("the catalog integration has a ~ key and is read-only")
    func catalogKey() throws {
        let search = try #require(try Fixtures.integration(key: "~search.membrane--getmembrane_com"))
        #expect(search.isReadOnly == true)
        #expect(search.connection == nil)
    }
}

@Suite("Open enums")
struct EnumTests {
    @Test func stateRoundTrips() {
        for raw in ["BUILDING", "CLIENT_ACTION_REQUIRED", "CONFIGURATION_ERROR", "SETUP_FAILED", "READY", "DISCONNECTING"] {
            let state = State(rawValue: raw)
            #expect(state.rawValue == raw)
            if case .unknown = state { Issue.record("\(raw) is a known state") }
        }
        guard case .unknown("ready") = State(rawValue: "ready") else {
            Issue.record("values are case-sensitive")
            return
        }
    }

    @Test func errorTypeHasFourteenKnownValues() {
        let raws = ["bad_request", "connection", "configuration", "dependency_error", "flow_run",
                    "flow_instance_setup", "concurrency", "internal", "action_run", "action_instance_setup",
                    "unit_run", "custom_code", "insufficient_credit", "openrouter_not_configured"]
        let types = raws.map(ErrorType.init(rawValue:))
        #expect(Set(types).count == 14)
        #expect(!types.contains { if case .unknown = $0 { true } else { false } })
        #expect(zip(types, raws).allSatisfy { $0.rawValue == $1 })
        guard case .unknown("quota") = ErrorType(rawValue: "quota") else {
            Issue.record("an unknown error type must be kept")
            return
        }
    }

    @Test func authAndClientActionTypesRoundTrip() {
        for raw in ["integration-app-token", "membrane-token", "oauth2", "oauth1", "client-credentials", "proxy"] {
            #expect(AuthType(rawValue: raw).rawValue == raw)
            if case .unknown = AuthType(rawValue: raw) { Issue.record("\(raw) is a known auth type") }
        }
        #expect(ClientActionType(rawValue: "connect") == .connect)
        #expect(ClientActionType(rawValue: "provide-input") == .provideInput)
        guard case .unknown("pay") = ClientActionType(rawValue: "pay") else {
            Issue.record("an unknown action type must be kept")
            return
        }
    }
}
