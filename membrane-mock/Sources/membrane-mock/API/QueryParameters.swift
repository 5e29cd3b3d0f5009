/// A raw query string split into decoded name/value pairs; the first occurrence of a
/// name wins, as in most web frameworks.
struct QueryParameters {
    private var values: [String: String] = [:]

    init(raw: String) {
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentDecoding.decode(parts[0], plusAsSpace: true) else { continue }
            let value = parts.count > 1 ? PercentDecoding.decode(parts[1], plusAsSpace: true) ?? String(parts[1]) : ""
            if values[name] == nil { values[name] = value }
        }
    }

    subscript(name: String) -> String? { values[name] }

    /// Booleans are true only when spelled `true`; anything else counts as false.
    func flag(_ name: String) -> Bool { values[name] == "true" }
}
