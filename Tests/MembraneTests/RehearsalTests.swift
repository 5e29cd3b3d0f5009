import Testing
@_spi(Rehearsal) @testable import Membrane

/// The rehearsal client (run once by `membrane_client_new` so that one-time
/// set-up happens before any client is shared) must really take the paths it
/// claims: a rehearsal that silently failed to connect would warm up nothing,
/// and only the thread checkers would notice.
@Suite("The rehearsal client answers from the loopback stage")
struct RehearsalTests {
    @Test("found: an integration with every documented field, through libcurl")
    func found() throws {
        let client = try MembraneClient.rehearsal()
        let integration = try client.integration("found")
        #expect(integration.name == "Found")
        #expect(integration.key == "found")
        #expect(integration.state == .ready)
        let text = try client.integrationText("found", includeSecrets: true)
        #expect(String(decoding: text, as: UTF8.self).contains(#""connection":"#))
    }

    @Test("missing: 404 not_found; busy: 503, retried once")
    func failures() throws {
        let client = try MembraneClient.rehearsal()
        let missing = #expect(throws: MembraneError.self) { try client.integration("missing") }
        #expect(missing?.code == .notFound)
        #expect(missing?.httpStatus == 404)
        let busy = #expect(throws: MembraneError.self) { try client.integration("busy") }
        #expect(busy?.httpStatus == 503)
        #expect(busy?.message.contains("after 2 attempts") == true)
    }

    @Test("a batch's parallel connections each get their own answer")
    func batch() throws {
        let client = try MembraneClient.rehearsal()
        let results = client.integrations(["found", "missing", "busy", "found"])
        #expect(results.count == 4)
        #expect((try? results[0].get())?.key == "found")
        #expect((try? results[3].get())?.key == "found")
        if case .failure(let error) = results[1] { #expect(error.code == .notFound) } else { Issue.record("missing was found") }
        if case .failure(let error) = results[2] { #expect(error.httpStatus == 503) } else { Issue.record("busy was found") }
    }

    @Test("the list route: one page of two")
    func listing() throws {
        let client = try MembraneClient.rehearsal()
        #expect(try client.integrationsPage().items.map(\.name) == ["Found", "Second"])
        #expect(try client.allIntegrations().count == 2)
    }
}
