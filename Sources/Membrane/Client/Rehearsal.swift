/// A client whose requests never leave the machine: every request is
/// answered by a canned HTTP response played to libcurl through a listening
/// socket on 127.0.0.1 (see ``CannedAnswer``), so its lookups run the real
/// path end to end.
///
/// Why: the Swift runtime and libcurl set much up lazily on first use (type
/// metadata, one-time globals, libcurl's global state). Done by many threads'
/// first lookups at once, that set-up is safe, but thread checkers that do not
/// know the runtime's atomics (valgrind's helgrind and DRD) report it as data
/// races. The C library rehearses each kind of call once, when the first
/// client is made, so that everything is set up before any client is shared.
@_spi(Rehearsal)
extension MembraneClient {
    /// Paths the rehearsal client answers: `/integrations/found` (an
    /// integration using every documented field), `/integrations/missing`
    /// (404 not_found), `/integrations/busy` (503, retried once at once), and the list
    /// route (one page of two integrations, no cursor).
    public static func rehearsal() throws(MembraneError) -> MembraneClient {
        guard let stage = LoopbackStage() else {
            throw MembraneError(code: .network, message: "cannot listen on 127.0.0.1")
        }
        // A numeric address, so no name is resolved.
        let client = try MembraneClient(apiURL: "http://127.0.0.1:\(stage.port)", token: "rehearsal")
        try client.setMaximumRetries(1)   // so the retry decision runs too
        client.settings.withLock { $0.cannedAnswers = { CannedAnswer(Rehearsal.answer(for: $0), on: stage) } }
        return client
    }
}

/// The canned answers of the rehearsal client.
enum Rehearsal {
    static func answer(for path: String) -> [UInt8] {
        if path.hasPrefix("/integrations/found") { return http(200, integration) }
        if path.hasPrefix("/integrations/missing") {
            return http(404, #"{"type":"bad_request","key":"not_found","message":"Integration not found","data":{}}"#)
        }
        if path.hasPrefix("/integrations/busy") {
            return http(503, #"{"type":"internal","key":"internal","message":"busy","data":{"errorId":"e1"}}"#,
                        extraHeaders: "Retry-After: 0\r\n")
        }
        return http(200, #"{"items":[\#(integration),{"name":"Second","key":"second"}]}"#)
    }

    private static func http(_ status: Int, _ body: String, extraHeaders: String = "") -> [UInt8] {
        Array("HTTP/1.1 \(status) Rehearsal\r\nContent-Type: application/json\r\n\(extraHeaders)Content-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }

    /// Every documented field of an integration and its connection, so that
    /// the schema check and the typed views take every path once.
    private static let integration = #"""
        {"id":"i1","uuid":"u1","key":"found","name":"Found","description":"d","logoUri":"l","state":"READY",\#
        "errors":[{"type":"t","key":"k","message":"m","data":{},"stack":{},"causedByError":{"message":"c"},"logs":[{}]}],\#
        "revision":"r","createdAt":"c","updatedAt":"u","archivedAt":"a","isDeactivated":false,"isReadOnly":false,\#
        "connectorId":"c","connectorVersion":"1","oAuthCallbackUri":"o","parameters":{"clientId":"x"},\#
        "hasMissingParameters":false,"hasDocumentation":true,"hasOperations":true,"operationsCount":1,"hasData":true,\#
        "dataCollectionsCount":1,"hasEvents":true,"eventsCount":1.5,"hasGlobalWebhooks":true,"hasUdm":true,"isTest":false,\#
        "externalAppId":"e","authType":"oauth2","optionsConfig":{"oauth2":{"disabled":false,"parameters":{}}},\#
        "spec":{},"appUri":"a","isConnected":true,"meta":{"x":[1,"y",null,true]},"unknownField":[{}],\#
        "connection":{"id":"c1","name":"n","userId":"u","tenantId":"t","type":"connector","key":"k","isTest":false,\#
        "connected":true,"disconnected":false,"isDefunct":false,"state":"READY","errors":[],"requestError":{"message":"m"},\#
        "error":{"message":"m"},"integrationId":"i1","connectorId":"c","externalAppId":"e","connectorVersion":"1",\#
        "authOptionKey":"a","createdAt":"c","updatedAt":"u","lastActiveAt":"l","nextCredentialsRefreshAt":"n",\#
        "nextRetryTimestamp":"n","retryAttempts":0,"canTest":true,"canRefreshCredentials":true,"archivedAt":"a",\#
        "isDeactivated":false,"meta":{},"buildingAgentSessionId":"b",\#
        "clientAction":{"type":"connect","description":"d","uiUrl":"u","agentInstructions":"a","handoffAgentInstructions":"h"}}}
        """#
}
