import Foundation

/// The integrations the mock serves, loaded once at start-up from a file shaped
/// `{"integrations": [ ... ]}`. Read-only afterwards, so it needs no locking.
struct FixtureStore: Sendable {
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// In file order; listing pages through them in this order.
    let integrations: [[String: JSONValue]]

    init(contentsOf path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw LoadError(description: "cannot read fixtures file '\(path)': \(error.localizedDescription)")
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(data)
        } catch {
            throw LoadError(description: "fixtures file '\(path)' is not valid JSON: \(error)")
        }
        guard case .array(let entries)? = document["integrations"] else {
            throw LoadError(description: "fixtures file '\(path)' must be an object with an \"integrations\" array")
        }
        var integrations: [[String: JSONValue]] = []
        for (index, entry) in entries.enumerated() {
            guard let object = entry.objectValue, object["name"]?.stringValue != nil else {
                throw LoadError(description: "fixtures file '\(path)': integrations[\(index)] must be an object with a string \"name\"")
            }
            integrations.append(object)
        }
        self.integrations = integrations
    }

    /// The API accepts an integration's id, uuid or key as its selector. Ids are tried
    /// first, so a key that happens to equal another entry's id cannot shadow it.
    func integration(selector: String) -> [String: JSONValue]? {
        for field in ["id", "uuid", "key"] {
            if let match = integrations.first(where: { $0[field]?.stringValue == selector }) { return match }
        }
        return nil
    }

    /// What `GET /integrations` filters on.
    struct ListFilter {
        /// Case-insensitive substring of name or key; empty matches all.
        var search: String?
        /// Exact `connectorId`.
        var connectorId: String?
        /// Exact `appUuid`.
        var appUuid: String?
        /// Archived entries are hidden unless asked for, as the API does.
        var includeArchived = false
    }

    /// Entries for `GET /integrations`, before paging, in file order.
    func list(_ filter: ListFilter) -> [[String: JSONValue]] {
        let needle = filter.search.flatMap { $0.isEmpty ? nil : $0.lowercased() }
        return integrations.filter { integration in
            if !filter.includeArchived, let archived = integration["archivedAt"], archived != .null { return false }
            if let connectorId = filter.connectorId, integration["connectorId"]?.stringValue != connectorId { return false }
            if let appUuid = filter.appUuid, integration["appUuid"]?.stringValue != appUuid { return false }
            guard let needle else { return true }
            return [integration["name"], integration["key"]].contains { field in
                field?.stringValue?.lowercased().contains(needle) ?? false
            }
        }
    }

    /// Selectors claimed by more than one entry; reported at start-up because only the
    /// first such entry could ever be found.
    func duplicateSelectors() -> [String] {
        var seen: [String: Int] = [:]
        for integration in integrations {
            let selectors = Set(["id", "uuid", "key"].compactMap { integration[$0]?.stringValue })
            for selector in selectors { seen[selector, default: 0] += 1 }
        }
        return seen.filter { $0.value > 1 }.map(\.key).sorted()
    }
}
