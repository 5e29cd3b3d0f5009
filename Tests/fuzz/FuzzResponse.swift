// libFuzzer target over the response-to-model path: an HTTP status and body
// go through ResponseDecoding (jansson parse, schema validation, API error
// mapping), and every typed view of the result is read, recursively.
//
// Built with the Membrane sources by `make fuzz` (swiftc -sanitize=fuzzer,address).
// Input: the first byte picks a status; the rest is the body.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let statuses = [200, 200, 200, 200, 201, 302, 400, 401, 403, 404, 429, 500, 502, 503]
    let status = statuses[Int(data[0]) % statuses.count]
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let response = HTTPResponse(status: status, body: body, contentType: "application/json",
                                location: "https://elsewhere.example/", retryAfter: nil)
    do {
        let integration = try ResponseDecoding.decode(response, as: Integration.init(json:))
        touch(integration)
    } catch {
        // Every failure must be a well-formed error: a code and a message.
        precondition(!error.message.isEmpty, "an error without a message")
        _ = error.sanitized(hiding: "fuzz-token-0123456789")
    }
    return 0
}

/// Reads every property, so a view that trusts a wrong type would trap here.
private func touch(_ integration: Integration) {
    _ = (integration.id, integration.name, integration.logoUri, integration.uuid, integration.key,
         integration.description, integration.state, integration.revision, integration.createdAt,
         integration.updatedAt, integration.archivedAt, integration.isDeactivated, integration.isReadOnly,
         integration.connectorId, integration.connectorVersion, integration.oAuthCallbackUri)
    _ = (integration.hasMissingParameters, integration.hasDocumentation, integration.hasOperations,
         integration.operationsCount, integration.hasData, integration.dataCollectionsCount,
         integration.hasEvents, integration.eventsCount, integration.hasGlobalWebhooks, integration.hasUdm,
         integration.isTest, integration.externalAppId, integration.authType?.rawValue)
    _ = (integration.parameters, integration.meta, integration.spec, integration.optionsConfig)
    integration.errors.forEach(touch)
    if let connection = integration.connection {
        _ = (connection.id, connection.name, connection.userId, connection.tenantId, connection.type,
             connection.key, connection.isTest, connection.connected, connection.isDefunct,
             connection.state?.rawValue, connection.integrationId, connection.connectorId,
             connection.externalAppId, connection.connectorVersion, connection.authOptionKey)
        _ = (connection.createdAt, connection.updatedAt, connection.lastActiveAt,
             connection.nextCredentialsRefreshAt, connection.nextRetryTimestamp, connection.retryAttempts,
             connection.canTest, connection.canRefreshCredentials, connection.archivedAt,
             connection.isDeactivated, connection.meta, connection.buildingAgentSessionId, connection.json)
        connection.errors.forEach(touch)
        connection.requestError.map(touch)
        if let action = connection.clientAction {
            _ = (action.type?.rawValue, action.description, action.uiUrl, action.agentInstructions,
                 action.handoffAgentInstructions)
        }
    }
}

private func touch(_ error: ErrorData) {
    var current: ErrorData? = error
    while let each = current {
        _ = (each.message, each.type?.rawValue, each.key, each.data)
        current = each.causedByError
    }
}
