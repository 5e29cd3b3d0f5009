extension MembraneClient {
    /// Looks up many integrations at once: up to the client's parallelism
    /// (default 8) in flight over reused connections (HTTP/2 multiplexed where
    /// the server offers it), each with the same retry and deadline rules as
    /// ``integration(_:includeSecrets:)``.
    ///
    /// - Returns: one result per selector, in input order. A selector given
    ///   twice is fetched once; both places get the same integration.
    public func integrations(_ selectors: [String], includeSecrets: Bool = false) -> [Result<Integration, MembraneError>] {
        var call = Call(settings: settings.withLock { $0 })
        var results = [Result<Integration, MembraneError>?](repeating: nil, count: selectors.count)
        var firstPlace: [String: Int] = [:]     // selector -> index into `unique`
        var unique: [(selector: String, places: [Int])] = []
        for (place, selector) in selectors.enumerated() {
            do throws(MembraneError) {
                try Selector.validate(selector)
            } catch {
                results[place] = .failure(error)
                continue
            }
            if let index = firstPlace[selector] {
                unique[index].places.append(place)
            } else {
                firstPlace[selector] = unique.count
                unique.append((selector, [place]))
            }
        }
        let exchanges = unique.isEmpty ? [] : perform(unique.map { integrationPath($0.selector, includeSecrets) }, in: &call)
        for (entry, exchange) in zip(unique, exchanges) {
            let result = Result { () throws(MembraneError) -> Integration in
                try call.finish(exchange, as: Integration.init(json:)).0
            }
            for place in entry.places { results[place] = result }
        }
        return results.map { $0 ?? .failure(MembraneError(code: .internal, message: "a lookup was lost")) }
    }
}
