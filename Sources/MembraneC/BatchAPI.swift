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
    let batch: BatchArguments
    switch BatchArguments.read(handle, selectors, count, flags, err) {
    case .success(let arguments): batch = arguments
    case .failure(let reported): return reported.code
    }
    let results = batch.client.integrations(batch.texts, includeSecrets: batch.includeSecrets)
    switch batch.array(of: results) {
    case .success(let array):
        out.pointee = array
        return ErrorReporting.succeed(err)
    case .failure(let error):
        return ErrorReporting.fail(error, err)
    }
}

/// The arguments of both batch calls, read and checked: a NULL element is
/// the caller's bug, reported for the whole call; a bad string is one
/// element's error.
struct BatchArguments {
    let client: MembraneClient
    var texts: [String] = []
    var invalid: [Int: MembraneError] = [:]
    let includeSecrets: Bool

    static func read(_ handle: OpaquePointer?, _ selectors: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int,
                     _ flags: UInt32, _ err: UnsafeMutablePointer<membrane_error>?) -> Result<BatchArguments, ReportedFailure> {
        func invalidArgument(_ message: String) -> Result<BatchArguments, ReportedFailure> {
            .failure(ReportedFailure(ErrorReporting.invalidArgument(message, err)))
        }
        guard let handle else { return invalidArgument("client is NULL") }
        guard count >= 0, count <= maximumBatchCount else { return invalidArgument("count must be at most \(maximumBatchCount)") }
        guard count == 0 || selectors != nil else { return invalidArgument("selectors is NULL") }
        guard flags & ~UInt32(MEMBRANE_INCLUDE_SECRETS) == 0 else { return invalidArgument("unknown flags \(flags)") }
        var arguments = BatchArguments(client: ClientHandle.client(handle),
                                       includeSecrets: flags & UInt32(MEMBRANE_INCLUDE_SECRETS) != 0)
        arguments.texts.reserveCapacity(count)
        for index in 0..<count {
            guard let selector = selectors?[index] else { return invalidArgument("selectors[\(index)] is NULL") }
            switch SelectorArgument.read(selector) {
            case .success(let text):
                arguments.texts.append(text)
            case .failure(let error):
                arguments.texts.append("")
                arguments.invalid[index] = error
            }
        }
        return .success(arguments)
    }

    /// The batch's result array (a new reference), or the error that ends
    /// the whole call (a cancel, out of memory).
    func array(of results: [Result<Integration, MembraneError>]) -> Result<UnsafeMutablePointer<CJansson.json_t>, MembraneError> {
        if results.contains(where: { if case .failure(let error) = $0 { error.code == .canceled } else { false } }) {
            return .failure(MembraneError(code: .canceled, message: "the call was cancelled"))
        }
        guard let array = json_array() else { return .failure(MembraneError(code: .internal, message: "out of memory")) }
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
                return .failure(MembraneError(code: .internal, message: "out of memory"))
            }
        }
        return .success(array)
    }
}
