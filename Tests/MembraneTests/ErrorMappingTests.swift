import Foundation
import Testing
@testable import Membrane

@Suite("Error mapping for each status")
struct ErrorMappingTests {
    static let statuses: [(status: Int, code: MembraneError.Code, key: String)] = [
        (400, .badRequest, "bad_request"), (401, .notAuthenticated, "not_authenticated"),
        (403, .accessDenied, "access_denied"), (404, .notFound, "not_found"),
        (409, .badRequest, ""), (418, .badRequest, ""), (422, .badRequest, ""),
        (429, .rateLimited, "rate_limit_exceeded"), (500, .server, ""), (502, .server, ""),
        (503, .server, ""), (504, .server, ""),
    ]

    @Test("status → code, with the API's key", arguments: statuses)
    func status(status: Int, code: MembraneError.Code, key: String) async throws {
        let selector = "fault-status-\(status)"
        try await MockServer.addFault(["match": selector, "status": status])
        // Without retries: 429 and 502-504 would be tried again (RetryTests).
        let error = try #require(lookupError(try MockServer.client(retries: 0), selector))
        #expect(error.code == code)
        #expect(error.httpStatus == status)
        if !key.isEmpty { #expect(error.key == key) }
        #expect(!error.message.isEmpty)
    }

    @Test("a 500's data.errorId is kept for support")
    func errorId() async throws {
        let selector = "fault-error-id"
        try await MockServer.addFault(["match": selector, "status": 500, "json": [
            "type": "internal", "key": "internal_error", "message": "boom",
            "data": ["errorId": "err-swift-1"],
        ] as [String: Any]])
        let error = try #require(lookupError(try MockServer.client(), selector))
        #expect(error.code == .server)
        #expect(error.errorId == "err-swift-1")
        #expect(error.type == "internal")
        #expect(error.message.contains("boom"))
    }

    @Test("an HTML page from a proxy is a server error that says so")
    func html() async throws {
        let selector = "fault-html"
        try await MockServer.addFault(["match": selector, "action": "html", "status": 502])
        let error = try #require(lookupError(try MockServer.client(retries: 0), selector))
        #expect(error.code == .server)
        #expect(error.httpStatus == 502)
        #expect(error.message.contains("text/html"))
        #expect(!error.message.contains("\r") && !error.message.contains("\n"))
    }

    @Test("a redirect is reported with its Location, not followed")
    func redirect() async throws {
        let selector = "fault-redirect"
        try await MockServer.addFault(["match": selector, "status": 302,
                                       "headers": ["Location": "https://elsewhere.example/x"]])
        let error = try #require(lookupError(try MockServer.client(), selector))
        #expect(error.code == .protocolError)
        #expect(error.httpStatus == 302)
        #expect(error.message.contains("to https://elsewhere.example/x;"), "\(error.message)")
        let followed = try await MockServer.requests().filter { $0.path.contains("elsewhere") }
        #expect(followed.isEmpty)
    }

    /// Faults as JSON text (test arguments must be Sendable), without their `match`.
    static let badBodies: [(name: String, fault: String, message: String)] = [
        ("truncated", #"{"action": "truncate", "status": 200, "json": {"name": "cut", "id": "abcdef"}}"#, "not valid JSON"),
        ("empty", #"{"status": 200, "body": ""}"#, "empty"),
        ("html-200", #"{"status": 200, "body": "<html>oops</html>", "contentType": "text/html"}"#, "not valid JSON"),
        ("array", #"{"status": 200, "json": [1, 2]}"#, "expected a JSON object, got array"),
        ("wrong-type", #"{"status": 200, "json": {"name": "x", "state": 5}}"#, #"field "state""#),
    ]

    @Test("bodies that are not an integration are protocol errors", arguments: badBodies)
    func protocolErrors(name: String, fault: String, message: String) async throws {
        let selector = "fault-body-\(name)"
        var fault = try #require(try JSONSerialization.jsonObject(with: Data(fault.utf8)) as? [String: Any])
        fault["match"] = selector
        try await MockServer.addFault(fault)
        let error = try #require(lookupError(try MockServer.client(), selector))
        #expect(error.code == .protocolError)
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test("a server that echoes the token does not get it into the error")
    func tokenRedacted() async throws {
        let selector = "fault-echo-token"
        try await MockServer.addFault(["match": selector, "status": 400, "json": [
            "type": "bad_request", "key": "echo", "message": "token \(MockServer.token) is odd",
        ] as [String: Any]])
        let error = try #require(lookupError(try MockServer.client(), selector))
        #expect(!error.message.contains(MockServer.token))
        #expect(error.message.contains("[redacted]"))
    }

    @Test("a body announced larger than the limit is refused before it is read")
    func oversizedAnnounced() async throws {
        let selector = "fault-oversized"
        try await MockServer.addFault(["match": selector, "action": "oversized", "sizeBytes": 48 * 1024 * 1024])
        let error = try #require(lookupError(try MockServer.client(), selector))
        #expect(error.code == .protocolError)
        #expect(error.message.contains("larger than the limit"))
    }

    @Test("control characters a server sends do not reach the message")
    func controlCharacters() async throws {
        let selector = "fault-control"
        try await MockServer.addFault(["match": selector, "status": 400, "json": [
            "type": "bad_request", "key": "odd", "message": "line one\nline two\u{1B}[31m",
        ] as [String: Any]])
        let error = try #require(lookupError(try MockServer.client(), selector))
        #expect(error.message.hasPrefix("line one line two [31m"), "\(error.message)")
    }

    @Test("a server slower than the timeout is a timeout")
    func timeout() async throws {
        let selector = "fault-slow"
        try await MockServer.addFault(["match": selector, "delayMs": 2000])
        let client = try MockServer.client()
        try client.setTimeout(milliseconds: 200)
        let error = try #require(lookupError(client, selector))
        #expect(error.code == .timeout)
    }

    @Test("a dropped connection is a network error")
    func dropped() async throws {
        let selector = "fault-drop"
        try await MockServer.addFault(["match": selector, "action": "drop"])
        let error = try #require(lookupError(try MockServer.client(retries: 0), selector))
        #expect(error.code == .network)
        #expect(error.httpStatus == 0)
    }

    @Test("every code has a distinct summary")
    func summaries() {
        let summaries = MembraneError.Code.allCases.map { "\($0.summary)" }
        #expect(Set(summaries).count == MembraneError.Code.allCases.count)
        #expect(MembraneError.Code.allCases.map(\.rawValue) == Array((-13 ... -1).reversed()))
    }
}
