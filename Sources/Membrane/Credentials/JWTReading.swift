import CJansson

/// What the library reads from a JWT it did not sign (a provider's, a fixed
/// token): only when it expires, to renew it in time and to say so when the
/// server rejects it. Signatures are the server's business, not checked here.
enum JWTReading {
    /// The `exp` and `iat` claims (seconds since the epoch), where present.
    static func times(of token: String) -> (expiry: Int64?, issuedAt: Int64?) {
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(Substring(parts[1])) else { return (nil, nil) }
        return payload.withUnsafeBytes { bytes -> (Int64?, Int64?) in
            var error = json_error_t()
            guard let claims = json_loadb(bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count, 0, &error)
            else { return (nil, nil) }
            defer { json_decref(claims) }
            return (seconds(json_object_get(claims, "exp")), seconds(json_object_get(claims, "iat")))
        }
    }

    private static func seconds(_ value: UnsafeMutablePointer<json_t>?) -> Int64? {
        switch value?.pointee.type {
        case JSON_INTEGER?: return Int64(json_integer_value(value))
        case JSON_REAL?:
            let real = json_real_value(value)
            return real.isFinite && abs(real) < 1e15 ? Int64(real) : nil
        default: return nil
        }
    }
}
