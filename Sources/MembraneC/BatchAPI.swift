import CJansson
import CMembrane
import Membrane

/// The most selectors one batch takes: enough for any real workspace, and a
/// bound on what a wrong `count` can make the library allocate.
private let maximumBatchCount = 1_000_000

@_cdecl("membrane_integrations_get_many")
public func membrane_integrations_get_many(_ handle: OpaquePointer?,
                                           _ selectors: UnsafePointer<UnsafePointer<CChar>?>?,
                                           _ count: Int,
                                           _ flags: UInt32,
                                           _ out: UnsafeMutablePointer<UnsafeMutablePointer<CJansson.json_t>?>?,
                                           _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    guard let out else { return ErrorReporting.invalidArgument("out is NULL", err) }
    out.pointee = nil
    guard let handle else { return ErrorReporting.invalidArgument("client is NULL", err) }
    guard count >= 0, count <= maximumBatchCount else {
        return ErrorReporting.invalidArgument("count must be at most \(maximumBatchCount)", err)
    }
    guard count == 0 || selectors != nil else {
        return ErrorReporting.invalidArgument("selectors is NULL", err)
    }
    guard flags & ~UInt32(MEMBRANE_INCLUDE_SECRETS) == 0 else {
        return ErrorReporting.invalidArgument("unknown flags \(flags)", err)
    }
    // Read every selector first: a NULL element is the caller's bug, reported
    // for the whole call; a bad string is one element's error.
    var texts: [String] = []
    var invalid: [Int: MembraneError] = [:]
    texts.reserveCapacity(count)
    for index in 0..<count {
        guard let selector = selectors?[index] else {
            return ErrorReporting.invalidArgument("selectors[\(index)] is NULL", err)
        }
        switch SelectorArgument.read(selector) {
        case .success(let text):
            texts.append(text)
        case .failure(let error):
            texts.append("")
            invalid[index] = error
        }
    }
    let client = ClientHandle.client(handle)
    let results = client.integrations(texts, includeSecrets: flags & UInt32(MEMBRANE_INCLUDE_SECRETS) != 0)
    if results.contains(where: { if case .failure(let error) = $0 { error.code == .canceled } else { false } }) {
        return ErrorReporting.fail(MembraneError(code: .canceled, message: "the call was cancelled"), err)
    }
    guard let array = json_array() else {
        return ErrorReporting.fail(MembraneError(code: .internal, message: "out of memory"), err)
    }
    // A repeated selector was fetched once; its later places get copies, so a
    // caller who edits one element does not see the others change.
    var handedOut: Set<UnsafeMutablePointer<CJansson.json_t>> = []
    for (index, result) in results.enumerated() {
        let element: UnsafeMutablePointer<CJansson.json_t>?
        switch (invalid[index].map { Result<Integration, MembraneError>.failure($0) } ?? result) {
        case .success(let integration):
            let value = integration.retainedPointer()
            if handedOut.insert(value).inserted {
                element = value
            } else {
                element = json_deep_copy(value)
                json_decref(value)
            }
        case .failure(let error): element = BatchErrorEntry.make(error)
        }
        guard json_array_append_new(array, element) == 0 else {
            json_decref(array)
            return ErrorReporting.fail(MembraneError(code: .internal, message: "out of memory"), err)
        }
    }
    out.pointee = array
    return ErrorReporting.succeed(err)
}
