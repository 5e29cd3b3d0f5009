import Testing
@testable import Membrane

@Suite("Selectors")
struct SelectorTests {
    @Test("ids, uuids and keys pass through unchanged")
    func plainSelectors() {
        for selector in ["67c05c5f0872bad5078153b9", "3f1c2a9e-8d4b-4c1e-9a7f-2b6d5e8c1a01", "hubspot",
                         "~search.membrane--getmembrane_com", "my_app.v2"] {
            #expect(Selector.pathSegment(selector) == selector)
        }
    }

    @Test("everything else is percent-encoded into one segment")
    func encoded() {
        #expect(Selector.pathSegment("a/b") == "a%2Fb")
        #expect(Selector.pathSegment("a?b=c") == "a%3Fb%3Dc")
        #expect(Selector.pathSegment("a#b") == "a%23b")
        #expect(Selector.pathSegment("%2F") == "%252F")
        #expect(Selector.pathSegment("with space") == "with%20space")
        #expect(Selector.pathSegment("ü") == "%C3%BC")
        #expect(Selector.pathSegment("../connections") == "..%2Fconnections")
        #expect(Selector.pathSegment("..") == "%2E%2E")
        #expect(Selector.pathSegment(".") == "%2E")
    }

    @Test("empty and over-long selectors are refused before any request")
    func refused() throws {
        let client = try MembraneClient(apiURL: "http://127.0.0.1:9", token: "t")
        for selector in ["", String(repeating: "a", count: 1025)] {
            let error = lookupError(client, selector)
            #expect(error?.code == .invalidArgument)
            #expect(error?.httpStatus == 0)
        }
        // 1024 bytes is allowed: it reaches the network (nothing listens on port 9).
        #expect(lookupError(client, String(repeating: "a", count: 1024))?.code == .network)
    }

    static let hostile = ["a/b", "../connections", "..", "a?b=c", "a#b", "%2F", "with space", "ünïcødé",
                          "~search.membrane--getmembrane_com", String(repeating: "z", count: 1024)]

    @Test("the server sees exactly one path segment that decodes to the selector", arguments: hostile)
    func serverSeesOneSegment(selector: String) async throws {
        let client = try MockServer.client()
        let error = lookupError(client, selector)
        if selector.hasPrefix("~") {
            #expect(error == nil)
        } else {
            #expect(error?.code == .notFound, "\(String(describing: error))")
        }
        let seen = try await MockServer.requests().filter { $0.selector == selector }
        let request = try #require(seen.last, "no request for \(selector)")
        let segment = request.path.dropFirst("/integrations/".count)
        #expect(!segment.contains("/") && !segment.contains("?") && !segment.contains("#") && !segment.contains(" "))
        #expect(segment != "..")
        #expect(request.query == "includeSecrets=false")
    }
}
