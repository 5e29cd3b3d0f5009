import CMembrane
import Membrane

/// Longest string option accepted (a user agent, a file path).
private let maximumOptionLength = 4096

@_cdecl("membrane_client_new")
public func membrane_client_new(_ out: UnsafeMutablePointer<OpaquePointer?>?,
                                _ apiURL: UnsafePointer<CChar>?,
                                _ token: UnsafePointer<CChar>?,
                                _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    // Before the first client exists, so before any client is shared.
    _ = Rehearsal.done
    guard let out else { return ErrorReporting.invalidArgument("out is NULL", err) }
    out.pointee = nil
    var url: String?
    if let apiURL {
        guard case .success(let text) = CString.read(apiURL, limit: 8192) else {
            return ErrorReporting.invalidArgument("api_url is not UTF-8 or is too long", err)
        }
        url = text
    }
    var secret: String?
    if let token {
        // The token is never described beyond this: no length, no bytes.
        guard case .success(let text) = CString.read(token, limit: ArgumentLimits.tokenBytes) else {
            return ErrorReporting.invalidArgument("token is not UTF-8 or is too long", err)
        }
        secret = text
    }
    do throws(MembraneError) {
        let client = try MembraneClient(apiURL: url, token: secret)
        out.pointee = ClientHandle.make(client)
        return ErrorReporting.succeed(err)
    } catch {
        return ErrorReporting.fail(error, err)
    }
}

@_cdecl("membrane_client_free")
public func membrane_client_free(_ client: OpaquePointer?) {
    guard let client else { return }
    ClientHandle.free(client)
}

@_cdecl("membrane_client_set_long")
public func membrane_client_set_long(_ handle: OpaquePointer?, _ option: Int32, _ value: Int) -> Int32 {
    guard let handle else { return Int32(MEMBRANE_EINVAL) }
    let client = ClientHandle.client(handle)
    do throws(MembraneError) {
        switch Int(option) {
        case Int(MEMBRANE_OPT_TIMEOUT_MS):
            try client.setTimeout(milliseconds: value)
        case Int(MEMBRANE_OPT_CONNECT_TIMEOUT_MS):
            try client.setConnectTimeout(milliseconds: value)
        case Int(MEMBRANE_OPT_MAX_RETRIES):
            try client.setMaximumRetries(value)
        case Int(MEMBRANE_OPT_RETRY_BASE_MS):
            try client.setRetryBase(milliseconds: value)
        case Int(MEMBRANE_OPT_MAX_RESPONSE_BYTES):
            try client.setMaximumResponseBytes(value)
        case Int(MEMBRANE_OPT_MAX_PARALLEL):
            try client.setMaximumParallel(value)
        case Int(MEMBRANE_OPT_MAX_PAGES):
            try client.setMaximumPages(value)
        case Int(MEMBRANE_OPT_TOKEN_LIFETIME_S):
            try client.setTokenLifetime(seconds: value)
        case Int(MEMBRANE_OPT_SHARE_REQUESTS):
            guard value == 0 || value == 1 else { return Int32(MEMBRANE_EINVAL) }
            client.setSharesRequests(value == 1)
        case Int(MEMBRANE_OPT_CACHE_TTL_MS):
            try client.setCacheTTL(milliseconds: value)
        case Int(MEMBRANE_OPT_CACHE_MAX_ENTRIES):
            try client.setCacheMaximumEntries(value)
        default:
            return Int32(MEMBRANE_EINVAL)
        }
        return Int32(MEMBRANE_OK)
    } catch {
        return error.code.rawValue
    }
}

@_cdecl("membrane_client_set_string")
public func membrane_client_set_string(_ handle: OpaquePointer?, _ option: Int32,
                                       _ value: UnsafePointer<CChar>?) -> Int32 {
    guard let handle else { return Int32(MEMBRANE_EINVAL) }
    let client = ClientHandle.client(handle)
    var text: String?
    if let value {
        guard case .success(let string) = CString.read(value, limit: maximumOptionLength) else {
            return Int32(MEMBRANE_EINVAL)
        }
        text = string
    }
    do throws(MembraneError) {
        switch Int(option) {
        case Int(MEMBRANE_OPT_USER_AGENT):
            guard let text else { return Int32(MEMBRANE_EINVAL) }
            try client.setUserAgent(text)
        case Int(MEMBRANE_OPT_CA_FILE):
            try client.setCAFile(text)
        default:
            return Int32(MEMBRANE_EINVAL)
        }
        return Int32(MEMBRANE_OK)
    } catch {
        return error.code.rawValue
    }
}

@_cdecl("membrane_client_cancel")
public func membrane_client_cancel(_ handle: OpaquePointer?) -> Int32 {
    guard let handle else { return Int32(MEMBRANE_EINVAL) }
    ClientHandle.client(handle).cancel()
    return Int32(MEMBRANE_OK)
}

@_cdecl("membrane_client_invalidate")
public func membrane_client_invalidate(_ handle: OpaquePointer?, _ selector: UnsafePointer<CChar>?) -> Int32 {
    guard let handle else { return Int32(MEMBRANE_EINVAL) }
    var text: String?
    if let selector {
        guard case .success(let read) = SelectorArgument.read(selector) else { return Int32(MEMBRANE_EINVAL) }
        text = read
    }
    ClientHandle.client(handle).invalidate(text)
    return Int32(MEMBRANE_OK)
}
