import CJansson
import CMembrane
import Membrane

// The event-loop face: requests start on the client's I/O thread, finish
// into the handle's CompletionQueue, and their callbacks run in
// membrane_client_dispatch on the host's thread.

/// A host's payload pointer, carried to the thread that dispatches.
private struct Payload: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
}

/// A finished request as the host's callback receives it: the code and a
/// filled `membrane_error`, built on the dispatching thread's stack.
private func withError(_ error: MembraneError?, _ body: (Int32, UnsafePointer<membrane_error>) -> Void) {
    var record = membrane_error()
    let code = error.map { ErrorReporting.fail($0, &record) } ?? ErrorReporting.succeed(&record)
    withUnsafePointer(to: &record) { body(code, $0) }
}

/// The delivery of a json result: the reference is taken on the I/O thread
/// and handed to the callback, which owns it.
private func jsonDelivery(_ callback: membrane_integration_callback, _ payload: Payload,
                          _ result: Result<UnsafeMutablePointer<CJansson.json_t>, MembraneError>) -> CompletionQueue.Delivery {
    {
        switch result {
        case .success(let value): withError(nil) { callback(payload.pointer, $0, value, $1) }
        case .failure(let error): withError(error) { callback(payload.pointer, $0, nil, $1) }
        }
    }
}

/// Starts one request with `start`, which receives the function that queues
/// its delivery; reports the id, or the failure to start.
private func starting(_ box: ClientHandle, _ requestID: UnsafeMutablePointer<UInt64>?,
                      _ err: UnsafeMutablePointer<membrane_error>?,
                      _ start: (@escaping @Sendable (@escaping CompletionQueue.Delivery) -> Void) throws(MembraneError) -> UInt64) -> Int32 {
    // The fd exists before anything can finish, so it is never created
    // while deliveries already wait without a wakeup.
    _ = box.completions.fileDescriptor()
    let completions = box.completions
    do throws(MembraneError) {
        let id = try start { delivery in completions.push(delivery) }
        requestID?.pointee = id
        return ErrorReporting.succeed(err)
    } catch {
        return ErrorReporting.fail(error, err)
    }
}

@_cdecl("membrane_integration_get_async")
public func membrane_integration_get_async(_ handle: OpaquePointer?, _ selector: UnsafePointer<CChar>?, _ flags: UInt32,
                                           _ callback: membrane_integration_callback?, _ payload: UnsafeMutableRawPointer?,
                                           _ requestID: UnsafeMutablePointer<UInt64>?,
                                           _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    requestID?.pointee = 0
    let lookup: (client: MembraneClient, selector: String, includeSecrets: Bool)
    switch lookupArguments(handle, selector, flags, err) {
    case .success(let arguments): lookup = arguments
    case .failure(let reported): return reported.code
    }
    guard let handle, let callback else { return ErrorReporting.invalidArgument("callback is NULL", err) }
    let payload = Payload(pointer: payload)
    return starting(ClientHandle.handle(handle), requestID, err) { deliver throws(MembraneError) in
        try lookup.client.startIntegration(lookup.selector, includeSecrets: lookup.includeSecrets) { result in
            deliver(jsonDelivery(callback, payload, result.map { $0.retainedPointer() }))
        }
    }
}

@_cdecl("membrane_integration_get_text_async")
public func membrane_integration_get_text_async(_ handle: OpaquePointer?, _ selector: UnsafePointer<CChar>?, _ flags: UInt32,
                                                _ callback: membrane_text_callback?, _ payload: UnsafeMutableRawPointer?,
                                                _ requestID: UnsafeMutablePointer<UInt64>?,
                                                _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    requestID?.pointee = 0
    let lookup: (client: MembraneClient, selector: String, includeSecrets: Bool)
    switch lookupArguments(handle, selector, flags, err) {
    case .success(let arguments): lookup = arguments
    case .failure(let reported): return reported.code
    }
    guard let handle, let callback else { return ErrorReporting.invalidArgument("callback is NULL", err) }
    let payload = Payload(pointer: payload)
    return starting(ClientHandle.handle(handle), requestID, err) { deliver throws(MembraneError) in
        try lookup.client.startIntegrationText(lookup.selector, includeSecrets: lookup.includeSecrets) { result in
            deliver {
                switch result {
                case .success(var body):
                    let length = body.count
                    body.append(0)
                    body.withUnsafeBufferPointer { bytes in
                        bytes.withMemoryRebound(to: CChar.self) { text in
                            withError(nil) { callback(payload.pointer, $0, text.baseAddress, length, $1) }
                        }
                    }
                case .failure(let error):
                    withError(error) { callback(payload.pointer, $0, nil, 0, $1) }
                }
            }
        }
    }
}

@_cdecl("membrane_integrations_get_many_async")
public func membrane_integrations_get_many_async(_ handle: OpaquePointer?,
                                                 _ selectors: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int,
                                                 _ flags: UInt32, _ callback: membrane_integration_callback?,
                                                 _ payload: UnsafeMutableRawPointer?,
                                                 _ requestID: UnsafeMutablePointer<UInt64>?,
                                                 _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    requestID?.pointee = 0
    let batch: BatchArguments
    switch BatchArguments.read(handle, selectors, count, flags, err) {
    case .success(let arguments): batch = arguments
    case .failure(let reported): return reported.code
    }
    guard let handle, let callback else { return ErrorReporting.invalidArgument("callback is NULL", err) }
    let payload = Payload(pointer: payload)
    return starting(ClientHandle.handle(handle), requestID, err) { deliver throws(MembraneError) in
        try batch.client.startIntegrations(batch.texts, includeSecrets: batch.includeSecrets) { results in
            deliver(jsonDelivery(callback, payload, batch.array(of: results)))
        }
    }
}

@_cdecl("membrane_integrations_list_async")
public func membrane_integrations_list_async(_ handle: OpaquePointer?, _ query: UnsafePointer<CJansson.json_t>?,
                                             _ callback: membrane_integration_callback?, _ payload: UnsafeMutableRawPointer?,
                                             _ requestID: UnsafeMutablePointer<UInt64>?,
                                             _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    requestID?.pointee = 0
    guard let handle else { return ErrorReporting.invalidArgument("client is NULL", err) }
    var parameters: [(name: String, value: String)] = []
    if let query {
        switch ListingQuery.parameters(query) {
        case .success(let list): parameters = list
        case .failure(let error): return ErrorReporting.fail(error, err)
        }
    }
    guard let callback else { return ErrorReporting.invalidArgument("callback is NULL", err) }
    let payload = Payload(pointer: payload)
    let client = ClientHandle.client(handle)
    return starting(ClientHandle.handle(handle), requestID, err) { deliver throws(MembraneError) in
        try client.startIntegrationsPage(query: parameters) { result in
            deliver(jsonDelivery(callback, payload, result.map { $0.json.retainedPointer() }))
        }
    }
}

@_cdecl("membrane_request_cancel")
public func membrane_request_cancel(_ handle: OpaquePointer?, _ requestID: UInt64) -> Int32 {
    guard let handle else { return Int32(MEMBRANE_EINVAL) }
    return ClientHandle.client(handle).cancelRequest(requestID) ? Int32(MEMBRANE_OK) : Int32(MEMBRANE_ENOTFOUND)
}

@_cdecl("membrane_client_completion_fd")
public func membrane_client_completion_fd(_ handle: OpaquePointer?) -> Int32 {
    guard let handle else { return Int32(MEMBRANE_EINVAL) }
    let fd = ClientHandle.handle(handle).completions.fileDescriptor()
    return fd >= 0 ? fd : Int32(MEMBRANE_EINTERNAL)
}

@_cdecl("membrane_client_dispatch")
public func membrane_client_dispatch(_ handle: OpaquePointer?, _ maximum: Int32) -> Int32 {
    guard let handle, maximum >= 0 else { return Int32(MEMBRANE_EINVAL) }
    return Int32(clamping: ClientHandle.handle(handle).completions.dispatch(maximum: Int(maximum)))
}
