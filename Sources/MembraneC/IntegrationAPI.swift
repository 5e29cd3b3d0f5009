import CJansson
import CMembrane
import Membrane

/// The arguments both single lookups share, checked in the same order: the
/// client, the selector and the flags (`out` is checked and cleared first by
/// the caller). Either the lookup to make or the code already reported.
func lookupArguments(_ handle: OpaquePointer?, _ selector: UnsafePointer<CChar>?, _ flags: UInt32,
                             _ err: UnsafeMutablePointer<membrane_error>?)
    -> Result<(client: MembraneClient, selector: String, includeSecrets: Bool), ReportedFailure> {
    guard let handle else { return .failure(ReportedFailure(ErrorReporting.invalidArgument("client is NULL", err))) }
    guard let selector else { return .failure(ReportedFailure(ErrorReporting.invalidArgument("selector is NULL", err))) }
    guard flags & ~UInt32(MEMBRANE_INCLUDE_SECRETS) == 0 else {
        return .failure(ReportedFailure(ErrorReporting.invalidArgument("unknown flags \(flags)", err)))
    }
    switch SelectorArgument.read(selector) {
    case .success(let text):
        return .success((ClientHandle.client(handle), text, flags & UInt32(MEMBRANE_INCLUDE_SECRETS) != 0))
    case .failure(let error):
        return .failure(ReportedFailure(ErrorReporting.fail(error, err)))
    }
}

/// A return code already written to the caller's `membrane_error`.
struct ReportedFailure: Error {
    let code: Int32
    init(_ code: Int32) { self.code = code }
}

@_cdecl("membrane_integration_get")
public func membrane_integration_get(_ handle: OpaquePointer?,
                                     _ selector: UnsafePointer<CChar>?,
                                     _ flags: UInt32,
                                     _ out: UnsafeMutablePointer<UnsafeMutablePointer<CJansson.json_t>?>?,
                                     _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    guard let out else { return ErrorReporting.invalidArgument("out is NULL", err) }
    out.pointee = nil
    let lookup: (client: MembraneClient, selector: String, includeSecrets: Bool)
    switch lookupArguments(handle, selector, flags, err) {
    case .success(let arguments): lookup = arguments
    case .failure(let reported): return reported.code
    }
    do throws(MembraneError) {
        let integration = try lookup.client.integration(lookup.selector, includeSecrets: lookup.includeSecrets)
        out.pointee = integration.retainedPointer()
        return ErrorReporting.succeed(err)
    } catch {
        return ErrorReporting.fail(error, err)
    }
}

@_cdecl("membrane_integration_get_text")
public func membrane_integration_get_text(_ handle: OpaquePointer?,
                                          _ selector: UnsafePointer<CChar>?,
                                          _ flags: UInt32,
                                          _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                          _ length: UnsafeMutablePointer<Int>?,
                                          _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    length?.pointee = 0
    guard let out else { return ErrorReporting.invalidArgument("out is NULL", err) }
    out.pointee = nil
    let lookup: (client: MembraneClient, selector: String, includeSecrets: Bool)
    switch lookupArguments(handle, selector, flags, err) {
    case .success(let arguments): lookup = arguments
    case .failure(let reported): return reported.code
    }
    do throws(MembraneError) {
        let body = try lookup.client.integrationText(lookup.selector, includeSecrets: lookup.includeSecrets)
        // jansson's allocator, so that membrane_free releases it like json_dumps' strings.
        guard let copy = CAllocation.string(body) else {
            return ErrorReporting.fail(MembraneError(code: .internal, message: "out of memory"), err)
        }
        out.pointee = copy
        length?.pointee = body.count
        return ErrorReporting.succeed(err)
    } catch {
        return ErrorReporting.fail(error, err)
    }
}
