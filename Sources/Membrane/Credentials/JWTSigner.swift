import CCrypto
import CJansson

/// Makes the client's own tokens: JWTs with the claims the Membrane API reads
/// (`workspaceKey`, `tenantKey` or `isAdmin`, `iat`, `exp`), signed with the
/// workspace secret (HS512, or HS256) or a private key (ES256 for EC P-256,
/// RS256 for RSA), by OpenSSL's libcrypto.
final class JWTSigner: Sendable {
    enum Algorithm: String, Sendable {
        case hs256 = "HS256", hs512 = "HS512", es256 = "ES256", rs256 = "RS256"
    }

    let workspaceKey: String
    /// nil for a workspace management (admin) token.
    let tenantKey: String?
    let algorithm: Algorithm
    private let key: SigningKey

    /// Signs with the workspace secret.
    init(workspaceKey: String, secret: String, tenantKey: String?, useHS256: Bool) throws(MembraneError) {
        try Self.checkClaim(workspaceKey, "the workspace key")
        if let tenantKey { try Self.checkClaim(tenantKey, "the tenant key") }
        guard !secret.isEmpty, secret.utf8.count <= Token.maximumByteCount else {
            throw .invalidArgument("the workspace secret must be 1 to \(Token.maximumByteCount) bytes")
        }
        self.workspaceKey = workspaceKey
        self.tenantKey = tenantKey
        algorithm = useHS256 ? .hs256 : .hs512
        key = .secret(SecretBytes(secret))
    }

    /// Signs with the private key in the PEM file at `path`.
    init(workspaceKey: String, privateKeyFile path: String, tenantKey: String?) throws(MembraneError) {
        try Self.checkClaim(workspaceKey, "the workspace key")
        if let tenantKey { try Self.checkClaim(tenantKey, "the tenant key") }
        let privateKey = try PrivateKey(pemFile: path)
        self.workspaceKey = workspaceKey
        self.tenantKey = tenantKey
        algorithm = privateKey.isRSA ? .rs256 : .es256
        key = .privateKey(privateKey)
    }

    private static func checkClaim(_ text: String, _ what: String) throws(MembraneError) {
        guard !text.isEmpty, text.utf8.count <= 1024, text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
            throw .invalidArgument("\(what) must be 1 to 1024 bytes without control characters")
        }
    }

    /// A token issued at `now` (milliseconds since the epoch) for `lifetime`
    /// seconds. `exp` is rounded up to a whole second, so a short-lived token
    /// never lives less than its lifetime (a 2 s token signed at x.8 s would
    /// otherwise last 1.2 s).
    func sign(nowMilliseconds now: Int64, lifetime: Int64) throws(MembraneError) -> String {
        let header = "{\"alg\":\"\(algorithm.rawValue)\",\"typ\":\"JWT\"}"
        guard let claims = json_object() else { throw MembraneError(code: .internal, message: "out of memory") }
        defer { json_decref(claims) }
        _ = json_object_set_new(claims, "workspaceKey", json_string(workspaceKey))
        if let tenantKey {
            _ = json_object_set_new(claims, "tenantKey", json_string(tenantKey))
        } else {
            _ = json_object_set_new(claims, "isAdmin", json_true())
        }
        _ = json_object_set_new(claims, "iat", json_integer(json_int_t(now / 1000)))
        _ = json_object_set_new(claims, "exp", json_integer(json_int_t((now + lifetime * 1000 + 999) / 1000)))
        guard let text = json_dumps(claims, Int(JSON_COMPACT) | Int(JSON_SORT_KEYS)) else {
            throw MembraneError(code: .internal, message: "out of memory")
        }
        let payload = String(cString: text)
        free(text)
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        let signature = try signature(of: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    private func signature(of input: [UInt8]) throws(MembraneError) -> [UInt8] {
        switch key {
        case .secret(let secret):
            var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            let digest = algorithm == .hs256 ? EVP_sha256() : EVP_sha512()
            let done = secret.withBytes { key in
                input.withUnsafeBufferPointer { data in
                    HMAC(digest, key.baseAddress, Int32(key.count), data.baseAddress, data.count, &out, &length) != nil
                }
            }
            guard done else { throw MembraneError(code: .internal, message: "libcrypto could not sign the token (HMAC)") }
            return Array(out[0..<Int(length)])
        case .privateKey(let privateKey):
            return try privateKey.sign(input)
        }
    }
}

private enum SigningKey: Sendable {
    case secret(SecretBytes)
    case privateKey(PrivateKey)
}
