import CJansson
import CMembrane
import Membrane

@_cdecl("membrane_integrations_list")
public func membrane_integrations_list(_ handle: OpaquePointer?,
                                       _ query: UnsafePointer<CJansson.json_t>?,
                                       _ out: UnsafeMutablePointer<UnsafeMutablePointer<CJansson.json_t>?>?,
                                       _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    listing(handle, query, out, err) { client, parameters throws(MembraneError) in
        try client.integrationsPage(query: parameters).json.retainedPointer()
    }
}

@_cdecl("membrane_integrations_list_all")
public func membrane_integrations_list_all(_ handle: OpaquePointer?,
                                           _ query: UnsafePointer<CJansson.json_t>?,
                                           _ out: UnsafeMutablePointer<UnsafeMutablePointer<CJansson.json_t>?>?,
                                           _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    listing(handle, query, out, err) { client, parameters throws(MembraneError) in
        let items = try client.allIntegrations(query: parameters)
        guard let array = json_array() else { throw MembraneError(code: .internal, message: "out of memory") }
        for item in items {
            guard json_array_append_new(array, item.retainedPointer()) == 0 else {
                json_decref(array)
                throw MembraneError(code: .internal, message: "out of memory")
            }
        }
        return array
    }
}

/// The argument checks both listing calls share, around `body`.
private func listing(_ handle: OpaquePointer?,
                     _ query: UnsafePointer<CJansson.json_t>?,
                     _ out: UnsafeMutablePointer<UnsafeMutablePointer<CJansson.json_t>?>?,
                     _ err: UnsafeMutablePointer<membrane_error>?,
                     _ body: (MembraneClient, [(name: String, value: String)]) throws(MembraneError) -> UnsafeMutablePointer<CJansson.json_t>) -> Int32 {
    guard let out else { return ErrorReporting.invalidArgument("out is NULL", err) }
    out.pointee = nil
    guard let handle else { return ErrorReporting.invalidArgument("client is NULL", err) }
    var parameters: [(name: String, value: String)] = []
    if let query {
        switch ListingQuery.parameters(query) {
        case .success(let list): parameters = list
        case .failure(let error): return ErrorReporting.fail(error, err)
        }
    }
    do throws(MembraneError) {
        out.pointee = try body(ClientHandle.client(handle), parameters)
        return ErrorReporting.succeed(err)
    } catch {
        return ErrorReporting.fail(error, err)
    }
}
