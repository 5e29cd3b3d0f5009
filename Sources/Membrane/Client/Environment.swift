#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The environment variables the vendor's tools use, read when a client is
/// made without an explicit URL or token.
enum Environment {
    static let apiURLVariable = "MEMBRANE_API_URL"
    static let tokenVariable = "MEMBRANE_TOKEN"
    static let workspaceKeyVariable = "MEMBRANE_WORKSPACE_KEY"
    static let workspaceSecretVariable = "MEMBRANE_WORKSPACE_SECRET"
    static let tenantKeyVariable = "MEMBRANE_TENANT_KEY"

    /// Where a new client's tokens come from: the token given, else
    /// `MEMBRANE_TOKEN`, else tokens signed with `MEMBRANE_WORKSPACE_KEY` and
    /// `MEMBRANE_WORKSPACE_SECRET` (for `MEMBRANE_TENANT_KEY`; without it,
    /// admin tokens).
    static func tokenSource(token: String?) throws(MembraneError) -> TokenSource {
        if let token {
            return .fixed(try Token(token))   // even empty: the caller meant it (and hears "no API token")
        }
        if let text = value(tokenVariable), !text.isEmpty {
            return .fixed(try Token(text))
        }
        if let workspaceKey = value(workspaceKeyVariable), let secret = value(workspaceSecretVariable),
           !workspaceKey.isEmpty, !secret.isEmpty {
            let tenantKey = value(tenantKeyVariable).flatMap { $0.isEmpty ? nil : $0 }
            return .signer(try JWTSigner(workspaceKey: workspaceKey, secret: secret, tenantKey: tenantKey, useHS256: false))
        }
        throw MembraneError(code: .notAuthenticated,
                            message: "no API token: pass one, set MEMBRANE_TOKEN, or set MEMBRANE_WORKSPACE_KEY and MEMBRANE_WORKSPACE_SECRET")
    }

    /// The variable's value; `nil` when unset or not UTF-8.
    static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(validatingCString: raw)
    }
}
