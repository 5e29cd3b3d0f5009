extension MembraneClient {
    /// One page of `GET /integrations`.
    ///
    /// - Parameter query: the API's parameters, e.g. `[("limit", "100"),
    ///   ("search", "crm"), ("includeArchived", "true"), ("cursor", c)]`;
    ///   names and values are percent-encoded.
    public func integrationsPage(query: [(name: String, value: String)] = []) throws(MembraneError) -> IntegrationPage {
        try get(pagePath(query), as: IntegrationPage.init(json:))
    }

    /// `/integrations` and the query, its names and values percent-encoded.
    func pagePath(_ query: [(name: String, value: String)]) -> String {
        guard !query.isEmpty else { return "/integrations" }
        return "/integrations?" + query.map { "\(PercentEncoding.encoded($0.name))=\(PercentEncoding.encoded($0.value))" }
            .joined(separator: "&")
    }

    /// Every integration matching `query`, following the cursor page by page.
    ///
    /// A client that does not pass the cursor back, or a server that hands
    /// out the same cursor twice, would loop forever: a cursor seen before,
    /// or more than the client's page cap (default 1000), ends the call with
    /// `.protocolError`.
    public func allIntegrations(query: [(name: String, value: String)] = []) throws(MembraneError) -> [Integration] {
        var call = Call(settings: settings.withLock { $0 })
        // The cursor errors below quote the server: hide the token from them too.
        call.tokens.append(credentials.currentTokenValue)
        let maximumPages = call.settings.maximumPages
        let base = query.filter { $0.name != "cursor" }
        var cursor = query.last { $0.name == "cursor" }?.value
        var seen: Set<String> = []
        var items: [Integration] = []
        for pageNumber in 1... {
            // Each page's errors are finished by the funnel; the two below are ours.
            let page = try integrationsPage(query: base + (cursor.map { [("cursor", $0)] } ?? []))
            items += page.items
            guard let next = page.cursor else { break }
            guard seen.insert(next).inserted else {
                // The cursor is the server's text: finished like any error, so it cannot carry the token.
                throw call.finished(MembraneError(
                    code: .protocolError, httpStatus: 200,
                    message: "the API returned cursor \"\(next)\" a second time; stopping rather than looping"))
            }
            guard pageNumber < maximumPages else {
                throw call.finished(MembraneError(
                    code: .protocolError, httpStatus: 200,
                    message: "more than \(maximumPages) pages; stopping (raise the page cap to read further)"))
            }
            cursor = next
        }
        return items
    }
}
