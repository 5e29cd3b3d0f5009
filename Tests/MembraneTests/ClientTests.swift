import Testing
@testable import Membrane

@Suite("Lookups against the stand-in server")
struct ClientTests {
    @Test("found by id, uuid, key and catalog key", arguments: [
        "67c05c5f0872bad5078153b9", "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c1a01", "hubspot",
    ])
    func foundHubSpot(selector: String) throws {
        let integration = try MockServer.client().integration(selector)
        #expect(integration.id == "67c05c5f0872bad5078153b9")
        #expect(integration.key == "hubspot")
        #expect(integration.name == "HubSpot")
    }

    @Test("the text path hands back the body that parses to the same integration")
    func integrationText() throws {
        let client = try MockServer.client()
        let body = try client.integrationText("hubspot")
        let parsed = try #require(body.withUnsafeBytes { try? JSONValue.parse($0).get() })
        let integration = try Integration(json: parsed)
        #expect(integration.id == "67c05c5f0872bad5078153b9")
        let viaJSON = try client.integration("hubspot")
        #expect(integration.name == viaJSON.name)
        #expect(String(decoding: body, as: UTF8.self).contains("\"key\""))
        #expect(throws: MembraneError.self) { try client.integrationText("no-such-integration") }
        #expect(throws: MembraneError.self) { try client.integrationText("") }
    }

    @Test func foundByCatalogKey() throws {
        let integration = try MockServer.client().integration("~search.membrane--getmembrane_com")
        #expect(integration.key == "~search.membrane--getmembrane_com")
        #expect(integration.isReadOnly == true)
    }

    @Test("secrets are masked unless asked for, and the query says which")
    func includeSecrets() async throws {
        let client = try MockServer.client()
        func clientSecret(_ include: Bool) throws -> String? {
            let parameters = try #require(try client.integration("hubspot", includeSecrets: include).parameters)
            return JSONObjectView(owner: parameters, pointer: parameters.pointer).string("clientSecret")
        }
        #expect(try clientSecret(true) == "hubspot-client-secret-456")
        let masked = try clientSecret(false)
        #expect(masked != nil && masked != "hubspot-client-secret-456")
        let queries = try await MockServer.requests().filter { $0.path == "/integrations/hubspot" }.map(\.query)
        #expect(queries.contains("includeSecrets=true"))
        #expect(queries.contains("includeSecrets=false"))
    }

    @Test("requests carry the user agent and accept JSON")
    func headers() async throws {
        let client = try MockServer.client()
        try client.setUserAgent("swift-tests/1 (headers)")
        _ = try client.integration("salesforce")
        let request = try #require(try await MockServer.requests().last {
            $0.headers["user-agent"] == "swift-tests/1 (headers)"
        })
        #expect(request.headers["accept"] == "application/json")
        #expect(request.headers["authorization"] == nil, "the mock never records the token")
        #expect(ClientSettings.defaultUserAgent == "libmembrane/\(MembraneVersion.string)")
    }

    @Test("a wrong token is not_authenticated, and the token is not in the error")
    func wrongToken() throws {
        let token = "wrong-token-7f3a9c"
        let error = try #require(lookupError(try MockServer.client(token: token), "hubspot"))
        #expect(error.code == .notAuthenticated)
        #expect(error.httpStatus == 401)
        #expect(error.key == "not_authenticated")
        #expect(!"\(error.type) \(error.key) \(error.message) \(error.errorId)".contains(token))
    }

    @Test("not found carries the API's key and message")
    func notFound() throws {
        let error = try #require(lookupError(try MockServer.client(), "no-such-integration"))
        #expect(error.code == .notFound)
        #expect(error.httpStatus == 404)
        #expect(error.key == "not_found")
        #expect(error.type == "bad_request")
        #expect(error.message.contains("no-such-integration"))
    }

    @Test("nothing listening is a network error")
    func refused() throws {
        let client = try MembraneClient(apiURL: "http://127.0.0.1:9", token: "t")
        let error = try #require(lookupError(client, "hubspot"))
        #expect(error.code == .network)
        #expect(error.httpStatus == 0)
    }
}

@Suite("Client configuration")
struct ConfigurationTests {
    @Test("bad URLs are invalid arguments", arguments: [
        "", "ftp://example.com", "not a url", "http://", "https://api.example.com/?q=1",
        "https://api.example.com/#x", "https://user:pass@api.example.com", "http://exa mple.com",
    ])
    func badURL(url: String) {
        #expect(throws: MembraneError.self) { try MembraneClient(apiURL: url, token: "t") }
        do { _ = try MembraneClient(apiURL: url, token: "t") } catch { #expect(error.code == .invalidArgument) }
    }

    @Test("a trailing slash is dropped")
    func trailingSlash() throws {
        #expect(try MembraneClient(apiURL: "https://api.example.com/v1//", token: "t").apiURL == "https://api.example.com/v1")
    }

    @Test("tokens with control characters are refused; an empty one is not authenticated")
    func tokens() {
        do { _ = try MembraneClient(apiURL: "https://a.example", token: "abc\r\nX-Evil: 1") } catch {
            #expect(error.code == .invalidArgument)
            #expect(!error.message.contains("abc"))
        }
        do { _ = try MembraneClient(apiURL: "https://a.example", token: "") } catch {
            #expect(error.code == .notAuthenticated)
        }
    }

    @Test("option values out of range are refused")
    func options() throws {
        let client = try MembraneClient(apiURL: "https://a.example", token: "t")
        #expect(throws: MembraneError.self) { try client.setTimeout(milliseconds: 0) }
        #expect(throws: MembraneError.self) { try client.setConnectTimeout(milliseconds: -5) }
        #expect(throws: MembraneError.self) { try client.setUserAgent("") }
        #expect(throws: MembraneError.self) { try client.setUserAgent("a\nb") }
        #expect(throws: MembraneError.self) { try client.setCAFile("") }
        try client.setTimeout(milliseconds: 1)
        try client.setCAFile(nil)
    }
}
