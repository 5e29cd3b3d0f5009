import CMembrane
import Membrane
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@_cdecl("membrane_client_set_token")
public func membrane_client_set_token(_ handle: OpaquePointer?, _ token: UnsafePointer<CChar>?,
                                      _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    guard let handle else { return ErrorReporting.invalidArgument("client is NULL", err) }
    guard let token else { return ErrorReporting.invalidArgument("token is NULL", err) }
    // The token is never described beyond this: no length, no bytes.
    guard case .success(let text) = CString.read(token, limit: ArgumentLimits.tokenBytes) else {
        return ErrorReporting.invalidArgument("the token is not UTF-8 or is too long", err)
    }
    do throws(MembraneError) {
        try ClientHandle.client(handle).setToken(text)
        return ErrorReporting.succeed(err)
    } catch {
        return ErrorReporting.fail(error, err)
    }
}

/// The C caller's provider and payload, passed back untouched: the caller
/// promised they may be used from the thread the library starts.
private struct CProvider: @unchecked Sendable {
    let function: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<CChar>?, Int) -> Int32
    let payload: UnsafeMutableRawPointer?

    /// One call: a token, or why there is none (never quoting it).
    func call() -> Result<String, MembraneError> {
        let size = ArgumentLimits.tokenBytes + 1
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
        buffer.initialize(repeating: 0, count: size)
        defer {
            // The token's bytes do not outlive the call.
            explicit_bzero(buffer, size)
            buffer.deallocate()
        }
        let status = function(payload, buffer, size)
        guard status == 0 else {
            return .failure(MembraneError(code: .notAuthenticated, message: "the token provider failed (it returned \(status))"))
        }
        guard (0..<size).contains(where: { buffer[$0] == 0 }) else {
            return .failure(MembraneError(code: .notAuthenticated, message: "the token provider wrote no NUL-terminated token"))
        }
        switch CString.read(buffer, limit: ArgumentLimits.tokenBytes) {
        case .success(let text): return .success(text)
        case .failure: return .failure(MembraneError(code: .notAuthenticated, message: "the token provider's token is not UTF-8"))
        }
    }
}

@_cdecl("membrane_client_set_token_provider")
public func membrane_client_set_token_provider(
    _ handle: OpaquePointer?,
    _ provider: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<CChar>?, Int) -> Int32)?,
    _ payload: UnsafeMutableRawPointer?,
    _ err: UnsafeMutablePointer<membrane_error>?
) -> Int32 {
    guard let handle else { return ErrorReporting.invalidArgument("client is NULL", err) }
    guard let provider else { return ErrorReporting.invalidArgument("provider is NULL", err) }
    let wrapped = CProvider(function: provider, payload: payload)
    ClientHandle.client(handle).setTokenProvider { wrapped.call() }
    return ErrorReporting.succeed(err)
}

/// The workspace key, tenant key and flags both signing calls share.
private struct SigningArguments {
    let workspaceKey: String
    let tenantKey: String?

    static func read(_ workspaceKey: UnsafePointer<CChar>?, _ tenantKey: UnsafePointer<CChar>?, _ flags: UInt32,
                     allowed: UInt32) -> Result<SigningArguments, MembraneError> {
        guard flags & ~allowed == 0 else { return .failure(MembraneError(code: .invalidArgument, message: "unknown flags \(flags)")) }
        guard let workspaceKey else { return .failure(MembraneError(code: .invalidArgument, message: "workspace_key is NULL")) }
        guard case .success(let key) = CString.read(workspaceKey, limit: 1024) else {
            return .failure(MembraneError(code: .invalidArgument, message: "workspace_key is not UTF-8 or is longer than 1024 bytes"))
        }
        let admin = flags & UInt32(MEMBRANE_TOKEN_ADMIN) != 0
        guard let tenantKey else {
            return admin ? .success(SigningArguments(workspaceKey: key, tenantKey: nil))
                : .failure(MembraneError(code: .invalidArgument, message: "tenant_key is NULL: pass one, or MEMBRANE_TOKEN_ADMIN for admin tokens"))
        }
        guard !admin else { return .failure(MembraneError(code: .invalidArgument, message: "admin tokens have no tenant_key: pass NULL")) }
        guard case .success(let tenant) = CString.read(tenantKey, limit: 1024) else {
            return .failure(MembraneError(code: .invalidArgument, message: "tenant_key is not UTF-8 or is longer than 1024 bytes"))
        }
        return .success(SigningArguments(workspaceKey: key, tenantKey: tenant))
    }
}

@_cdecl("membrane_client_use_workspace_secret")
public func membrane_client_use_workspace_secret(_ handle: OpaquePointer?, _ workspaceKey: UnsafePointer<CChar>?,
                                                 _ secret: UnsafePointer<CChar>?, _ tenantKey: UnsafePointer<CChar>?,
                                                 _ flags: UInt32,
                                                 _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    guard let handle else { return ErrorReporting.invalidArgument("client is NULL", err) }
    let allowed = UInt32(MEMBRANE_TOKEN_ADMIN) | UInt32(MEMBRANE_TOKEN_HS256)
    let arguments: SigningArguments
    switch SigningArguments.read(workspaceKey, tenantKey, flags, allowed: allowed) {
    case .success(let read): arguments = read
    case .failure(let error): return ErrorReporting.fail(error, err)
    }
    guard let secret else { return ErrorReporting.invalidArgument("workspace_secret is NULL", err) }
    guard case .success(let secretText) = CString.read(secret, limit: ArgumentLimits.tokenBytes) else {
        return ErrorReporting.invalidArgument("the workspace secret is not UTF-8 or is too long", err)
    }
    do throws(MembraneError) {
        try ClientHandle.client(handle).useWorkspaceSecret(workspaceKey: arguments.workspaceKey, secret: secretText,
                                                           tenantKey: arguments.tenantKey,
                                                           useHS256: flags & UInt32(MEMBRANE_TOKEN_HS256) != 0)
        return ErrorReporting.succeed(err)
    } catch {
        return ErrorReporting.fail(error, err)
    }
}

@_cdecl("membrane_client_use_private_key")
public func membrane_client_use_private_key(_ handle: OpaquePointer?, _ workspaceKey: UnsafePointer<CChar>?,
                                            _ pemPath: UnsafePointer<CChar>?, _ tenantKey: UnsafePointer<CChar>?,
                                            _ flags: UInt32, _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
    guard let handle else { return ErrorReporting.invalidArgument("client is NULL", err) }
    let arguments: SigningArguments
    switch SigningArguments.read(workspaceKey, tenantKey, flags, allowed: UInt32(MEMBRANE_TOKEN_ADMIN)) {
    case .success(let read): arguments = read
    case .failure(let error): return ErrorReporting.fail(error, err)
    }
    guard let pemPath else { return ErrorReporting.invalidArgument("pem_path is NULL", err) }
    guard case .success(let path) = CString.read(pemPath, limit: 4096) else {
        return ErrorReporting.invalidArgument("pem_path is not UTF-8 or is longer than 4096 bytes", err)
    }
    do throws(MembraneError) {
        try ClientHandle.client(handle).usePrivateKey(workspaceKey: arguments.workspaceKey, pemFile: path,
                                                      tenantKey: arguments.tenantKey)
        return ErrorReporting.succeed(err)
    } catch {
        return ErrorReporting.fail(error, err)
    }
}
