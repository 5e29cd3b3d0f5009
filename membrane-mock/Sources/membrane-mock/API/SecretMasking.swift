/// Hides secret values the way the API does when `includeSecrets` is not `true`.
enum SecretMasking {
    static let mask: JSONValue = "********"

    /// Key fragments that mark a value as secret, compared case-insensitively.
    private static let secretFragments = ["secret", "password", "token", "apikey", "api_key", "privatekey"]

    static func isSecret(key: String) -> Bool {
        let lowered = key.lowercased()
        return secretFragments.contains { lowered.contains($0) }
    }

    /// Only the integration's `parameters` carry credentials; the rest of the record
    /// (ids, connection metadata) is returned untouched.
    static func masked(_ integration: [String: JSONValue]) -> [String: JSONValue] {
        guard let parameters = integration["parameters"] else { return integration }
        var copy = integration
        copy["parameters"] = maskedValue(parameters)
        return copy
    }

    /// Walks objects and arrays at any depth; a secret key's whole value is replaced,
    /// whatever its type.
    private static func maskedValue(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members {
                result[key] = isSecret(key: key) ? mask : maskedValue(member)
            }
            return .object(result)
        case .array(let items):
            return .array(items.map(maskedValue))
        default:
            return value
        }
    }
}
