import CCrypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A private key read from a PEM file (EC P-256 or RSA), held by libcrypto,
/// which clears its private parts when it is freed.
final class PrivateKey: @unchecked Sendable {
    private let key: OpaquePointer
    let isRSA: Bool

    init(pemFile path: String) throws(MembraneError) {
        guard !path.isEmpty, path.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
            throw .invalidArgument("the private key path must be non-empty, without control characters")
        }
        guard let file = fopen(path, "r") else {
            throw .invalidArgument("cannot open the private key file \(path)")
        }
        let loaded = PEM_read_PrivateKey(file, nil, nil, nil)
        fclose(file)
        ERR_clear_error()
        guard let loaded else {
            throw .invalidArgument("\(path) holds no PEM private key (or one protected by a passphrase)")
        }
        switch EVP_PKEY_get_base_id(loaded) {
        case EVP_PKEY_RSA:
            guard EVP_PKEY_get_bits(loaded) >= 2048 else {
                EVP_PKEY_free(loaded)
                throw .invalidArgument("the RSA key in \(path) is shorter than 2048 bits")
            }
            isRSA = true
        case EVP_PKEY_EC where EVP_PKEY_get_bits(loaded) == 256:
            isRSA = false
        default:
            EVP_PKEY_free(loaded)
            throw .invalidArgument("the key in \(path) is neither EC P-256 (ES256) nor RSA (RS256)")
        }
        key = loaded
    }

    deinit {
        EVP_PKEY_free(key)
    }

    /// RS256: the PKCS#1 v1.5 signature of SHA-256(input). ES256: r and s,
    /// 32 bytes each (JWS's form, not the DER one libcrypto writes).
    func sign(_ input: [UInt8]) throws(MembraneError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw MembraneError(code: .internal, message: "out of memory") }
        defer { EVP_MD_CTX_free(context) }
        var length = 0
        var signature: [UInt8] = []
        let signed = input.withUnsafeBufferPointer { data -> Bool in
            guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1,
                  EVP_DigestSign(context, nil, &length, data.baseAddress, data.count) == 1 else { return false }
            signature = [UInt8](repeating: 0, count: length)
            return EVP_DigestSign(context, &signature, &length, data.baseAddress, data.count) == 1
        }
        ERR_clear_error()
        guard signed else { throw MembraneError(code: .internal, message: "libcrypto could not sign the token") }
        signature.removeSubrange(length...)
        return isRSA ? signature : try Self.rawECDSA(fromDER: signature)
    }

    private static func rawECDSA(fromDER der: [UInt8]) throws(MembraneError) -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: 64)
        let converted = der.withUnsafeBufferPointer { buffer -> Bool in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let parsed = d2i_ECDSA_SIG(nil, &cursor, buffer.count) else { return false }
            defer { ECDSA_SIG_free(parsed) }
            var r: OpaquePointer?
            var s: OpaquePointer?
            ECDSA_SIG_get0(parsed, &r, &s)
            return raw.withUnsafeMutableBufferPointer { out in
                BN_bn2binpad(r, out.baseAddress, 32) == 32 && BN_bn2binpad(s, out.baseAddress! + 32, 32) == 32
            }
        }
        guard converted else { throw MembraneError(code: .internal, message: "libcrypto wrote an ECDSA signature it could not read back") }
        return raw
    }
}
