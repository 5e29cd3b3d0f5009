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
        let plan = BatchPlan(selectors)
        let exchanges = plan.unique.isEmpty ? [] : perform(plan.unique.map { integrationPath($0.selector, includeSecrets) },
                                                           in: &call)
        return plan.results(from: exchanges.map { exchange in
            Result { () throws(MembraneError) -> Integration in
                try call.finish(exchange, as: Integration.init(json:)).0
            }
        })
    }
}

/// A batch's selectors checked and folded: each distinct valid selector
/// once, with the places it fills; invalid ones fail in their place.
struct BatchPlan: Sendable {
    private(set) var unique: [(selector: String, places: [Int])] = []
    private var invalid: [(place: Int, error: MembraneError)] = []
    private let count: Int

    init(_ selectors: [String]) {
        count = selectors.count
        var firstPlace: [String: Int] = [:]     // selector -> index into `unique`
        for (place, selector) in selectors.enumerated() {
            do throws(MembraneError) {
                try Selector.validate(selector)
            } catch {
                invalid.append((place, error))
                continue
            }
            if let index = firstPlace[selector] {
                unique[index].places.append(place)
            } else {
                firstPlace[selector] = unique.count
                unique.append((selector, [place]))
            }
        }
    }

    /// The results in input order, from one result per distinct selector.
    func results(from lookups: [Result<Integration, MembraneError>?]) -> [Result<Integration, MembraneError>] {
        var results = [Result<Integration, MembraneError>?](repeating: nil, count: count)
        for entry in invalid { results[entry.place] = .failure(entry.error) }
        for (entry, result) in zip(unique, lookups) {
            for place in entry.places { results[place] = result }
        }
        return results.map { $0 ?? .failure(MembraneError(code: .internal, message: "a lookup was lost")) }
    }
}
