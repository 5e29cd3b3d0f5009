import CJansson
import CMembrane
import Membrane

@_cdecl("membrane_integration_get")
public func membrane_integration_get(_ handle: OpaquePointer?,
                                     _ selector: UnsafePointer<CChar>?,
                                     _ flags: UInt32,
                                     _ out: UnsafeMutablePointer<UnsafeMutablePointer<CJansson.json_t>?>?,
                                     _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    guard let out else { return ErrorReporting.invalidArgument("out is NULL", err) }
    out.pointee = nil
    guard let handle else { return ErrorReporting.invalidArgument("client is NULL", err) }
    guard let selector else { return ErrorReporting.invalidArgument("selector is NULL", err) }
    guard flags & ~UInt32(MEMBRANE_INCLUDE_SECRETS) == 0 else {
        return ErrorReporting.invalidArgument("unknown flags \(flags)", err)
    }
    let text: String
    switch SelectorArgument.read(selector) {
    case .success(let string): text = string
    case .failure(let error): return ErrorReporting.fail(error, err)
    }
    do throws(MembraneError) {
        let integration = try ClientHandle.client(handle)
            .integration(text, includeSecrets: flags & UInt32(MEMBRANE_INCLUDE_SECRETS) != 0)
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
    guard let handle else { return ErrorReporting.invalidArgument("client is NULL", err) }
    guard let selector else { return ErrorReporting.invalidArgument("selector is NULL", err) }
    guard flags & ~UInt32(MEMBRANE_INCLUDE_SECRETS) == 0 else {
        return ErrorReporting.invalidArgument("unknown flags \(flags)", err)
    }
    let text: String
    switch SelectorArgument.read(selector) {
    case .success(let string): text = string
    case .failure(let error): return ErrorReporting.fail(error, err)
    }
    do throws(MembraneError) {
        let body = try ClientHandle.client(handle)
            .integrationText(text, includeSecrets: flags & UInt32(MEMBRANE_INCLUDE_SECRETS) != 0)
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
