import Foundation
@testable import Membrane

/// The default fixtures the stand-in server serves (examples/fixtures).
enum Fixtures {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/fixtures/integrations.json").path

    /// Every fixture integration as its own value, parsed by jansson.
    static func all() throws -> [JSONValue] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let root = try data.withUnsafeBytes { try JSONValue.parse($0).get() }
        let view = JSONObjectView(owner: root, pointer: root.pointer)
        return view.objects("integrations").map { JSONValue(retaining: $0.pointer) }
    }

    static func integration(key: String) throws -> Integration? {
        try all().lazy.compactMap { try? Integration(json: $0) }.first { $0.key == key }
    }
}

/// Parses a JSON text for a test; the text is the test's own.
func json(_ text: String) -> JSONValue {
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBytes { raw in
        guard case .success(let value) = JSONValue.parse(UnsafeRawBufferPointer(raw)) else {
            preconditionFailure("test JSON does not parse: \(text)")
        }
        return value
    }
}
