import HTTPTypes

/// One scripted misbehaviour, posted to `POST /_mock/faults`. Every field is optional;
/// see README.md in this folder for what each does on the wire.
struct Fault: Sendable {
    enum Action: String, Sendable, CaseIterable {
        case drop
        case resetBeforeHeaders = "reset-before-headers"
        case resetMidBody = "reset-mid-body"
        case truncate
        case slowBody = "slow-body"
        case oversized
        case oversizedChunked = "oversized-chunked"
        case shortContentLength = "short-content-length"
        case gzip
        case html
    }

    /// The decoded selector this fault is for; nil matches every API request.
    var match: String?
    /// Requests left to affect; 0 means forever.
    var times: Int = 1
    var status: Int?
    var json: JSONValue?
    var body: String?
    var contentType: String?
    var headers: [(name: String, value: String)] = []
    var delayMs: Int = 0
    var action: Action?
    var chunkDelayMs: Int = 200
    var chunkSize: Int = 64
    var sizeBytes: Int = 32 * 1024 * 1024

    func matches(selector: String) -> Bool {
        match == nil || match == selector
    }
}

extension Fault {
    struct InvalidFault: Error, CustomStringConvertible {
        let description: String
    }

    private static let knownFields: Set<String> = [
        "match", "times", "status", "json", "body", "contentType", "headers", "delayMs", "action",
        "chunkDelayMs", "chunkSize", "sizeBytes",
    ]

    /// Parses one fault object. Unknown fields are rejected so a typo (`delay_ms`)
    /// fails loudly instead of silently queuing a fault that does nothing.
    init(json value: JSONValue) throws {
        guard let object = value.objectValue else {
            throw InvalidFault(description: "a fault must be a JSON object, got \(value.typeName)")
        }
        if let unknown = object.keys.filter({ !Self.knownFields.contains($0) }).sorted().first {
            throw InvalidFault(
                description: "unknown fault field '\(unknown)'; known fields: \(Self.knownFields.sorted().joined(separator: ", "))"
            )
        }
        func string(_ field: String) throws -> String? {
            guard let value = object[field] else { return nil }
            guard let text = value.stringValue else { throw InvalidFault(description: "'\(field)' must be a string") }
            return text
        }
        func integer(_ field: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let value = object[field] else { return nil }
            guard let number = value.intValue, range.contains(number) else {
                throw InvalidFault(description: "'\(field)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }

        match = try string("match")
        times = try integer("times", in: 0...Int(Int32.max)) ?? times
        status = try integer("status", in: 200...599)
        json = object["json"]
        body = try string("body")
        contentType = try string("contentType")
        delayMs = try integer("delayMs", in: 0...600_000) ?? delayMs
        chunkDelayMs = try integer("chunkDelayMs", in: 0...600_000) ?? chunkDelayMs
        chunkSize = try integer("chunkSize", in: 1...(1 << 20)) ?? chunkSize
        sizeBytes = try integer("sizeBytes", in: 1...(1 << 30)) ?? sizeBytes
        if let name = try string("action") {
            guard let action = Action(rawValue: name) else {
                throw InvalidFault(
                    description: "unknown action '\(name)'; known actions: \(Action.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            self.action = action
        }
        if let headerValue = object["headers"] {
            guard let members = headerValue.objectValue else {
                throw InvalidFault(description: "'headers' must be an object of strings")
            }
            for (name, value) in members.sorted(by: { $0.key < $1.key }) {
                guard HTTPField.Name(name) != nil else {
                    throw InvalidFault(description: "'\(name)' is not a valid header name")
                }
                guard let text = value.stringValue else {
                    throw InvalidFault(description: "header '\(name)' must have a string value")
                }
                headers.append((name, text))
            }
        }
        if json != nil && body != nil {
            throw InvalidFault(description: "give either 'json' or 'body', not both")
        }
    }

    /// Echoed by `GET /_mock/faults` so a test can see what is still pending.
    var summary: JSONValue {
        var object: [String: JSONValue] = ["times": .int(Int64(times))]
        if let match { object["match"] = .string(match) }
        if let status { object["status"] = .int(Int64(status)) }
        if let action { object["action"] = .string(action.rawValue) }
        if delayMs > 0 { object["delayMs"] = .int(Int64(delayMs)) }
        return .object(object)
    }
}
