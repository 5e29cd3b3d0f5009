import CJansson
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CMembrane
@_spi(Rehearsal) import Membrane

/// Runs every kind of C call once, on a client whose requests never leave the
/// process (``MembraneClient/rehearsal()``), the first time a client is made.
///
/// Why: the Swift runtime sets up type metadata, value witnesses and global
/// constants lazily, on first use, and libcurl its global state. When 16
/// threads make their first lookups at once through a shared client, that
/// set-up happens concurrently. It is safe (the runtime uses atomics), but
/// valgrind's helgrind and DRD cannot see those atomics and report hundreds
/// of "possible data races", so a host could not run them in its own CI. A
/// host shares a client only after `membrane_client_new` returned it, so what
/// is set up here happens before any concurrent use.
///
/// Whatever the rehearsal meets is ignored: it never fails a real call.
enum Rehearsal {
    /// Evaluated once per process (a Swift global is initialised exactly once).
    static let done: Bool = perform()

    private static func perform() -> Bool {
        guard let client = try? MembraneClient.rehearsal() else { return false }
        let handle = ClientHandle.make(client)
        defer { membrane_client_free(handle) }
        // With and without a log callback: the log path has its own set-up.
        _ = membrane_client_set_log(handle, { _, _, _ in }, nil)
        run(handle)
        _ = membrane_client_set_log(handle, nil, nil)
        run(handle)
        return true
    }

    private static func run(_ handle: OpaquePointer) {
        var error = membrane_error()
        for selector in ["found", "missing", "busy", "Found%/ü~"] {
            for flags in [UInt32(0), UInt32(MEMBRANE_INCLUDE_SECRETS)] {
                var value: UnsafeMutablePointer<json_t>?
                _ = membrane_integration_get(handle, selector, flags, &value, &error)
                if let value { json_decref(value) }
                var text: UnsafeMutablePointer<CChar>?
                var length = 0
                _ = membrane_integration_get_text(handle, selector, flags, &text, &length, &error)
                membrane_free(text)
            }
        }
        // Invalid arguments: the error-reporting path without a transfer.
        var value: UnsafeMutablePointer<json_t>?
        _ = membrane_integration_get(handle, "", 0, &value, &error)
        _ = membrane_integration_get(handle, nil, 0, &value, &error)

        let selectors: [String] = ["found", "missing", "busy", "found"]
        var strings = selectors.map { strdup($0) }
        defer { strings.forEach { free($0) } }
        strings.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { pointer in
                var results: UnsafeMutablePointer<json_t>?
                _ = membrane_integrations_get_many(handle, pointer, buffer.count, 0, &results, &error)
                if let results { json_decref(results) }
            }
        }

        let query = json_pack_object(["connectorId": "c", "limit": "2"])
        defer { if let query { json_decref(query) } }
        for listing in [membrane_integrations_list, membrane_integrations_list_all] {
            for q in [nil, query] {
                var page: UnsafeMutablePointer<json_t>?
                _ = listing(handle, q.map { UnsafePointer($0) }, &page, &error)
                if let page { json_decref(page) }
            }
        }
    }

    /// A JSON object of strings (jansson's json_pack is variadic, which Swift cannot call).
    private static func json_pack_object(_ fields: [String: String]) -> UnsafeMutablePointer<json_t>? {
        guard let object = json_object() else { return nil }
        for (key, text) in fields {
            _ = json_object_set_new(object, key, json_string(text))
        }
        return object
    }
}
