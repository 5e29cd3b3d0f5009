import CCrypto
import Foundation

/// The signature checks behind the JWT algorithms the stand-in accepts, all done
/// by OpenSSL's libcrypto: HMAC-SHA256/512 compared in constant time, and
/// EVP_DigestVerify over SHA-256 for ECDSA P-256 and RSA PKCS#1 v1.5.
enum Signatures {
    enum HMACHash { case sha256, sha512 }

    /// Whether `signature` is HMAC-`hash`(key, message). A signature of another
    /// length (say an HS256 one under an HS512 header) never matches.
    static func hmacMatches(_ hash: HMACHash, key: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
        let digest: OpaquePointer? = switch hash {
        case .sha256: EVP_sha256()
        case .sha512: EVP_sha512()
        }
        guard let digest, !key.isEmpty, key.count <= Int(Int32.max) else { return false }
        var mac = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let done = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBufferPointer { messageBytes in
                mac.withUnsafeMutableBufferPointer { macBytes in
                    HMAC(digest, keyBytes.baseAddress, Int32(keyBytes.count),
                         messageBytes.baseAddress, messageBytes.count, macBytes.baseAddress, &length)
                }
            }
        }
        defer { ERR_clear_error() }
        guard done != nil, Int(length) == signature.count else { return false }
        return CRYPTO_memcmp(mac, signature, signature.count) == 0
    }
}

/// A public key from a PEM file, for ES256 (EC P-256) or RS256 (RSA) tokens.
/// libcrypto allows one key to be used for verifications on several threads at
/// once, each with its own context, which is all this does with it.
final class PublicKey: @unchecked Sendable {
    enum Kind: Sendable {
        case ecP256, rsa

        var algorithm: String {
            switch self {
            case .ecP256: "ES256"
            case .rsa: "RS256"
            }
        }
    }

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    let kind: Kind
    private let key: OpaquePointer

    /// Reads a SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----", what
    /// `openssl pkey -pubout` writes).
    init(pemFile path: String) throws(LoadError) {
        guard let pem = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "--public-key \(path): cannot read the file")
        }
        let loaded: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(clamping: bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        ERR_clear_error()
        guard let loaded else {
            throw LoadError(description: "--public-key \(path): no PEM public key (-----BEGIN PUBLIC KEY-----) in it")
        }
        switch mbcrypto_key_kind(loaded) {
        case 1: kind = .ecP256
        case 2: kind = .rsa
        default:
            EVP_PKEY_free(loaded)
            throw LoadError(description: "--public-key \(path): the key is neither EC P-256 (ES256) nor RSA (RS256)")
        }
        key = loaded
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether `signature` signs SHA-256(message) with this key: for EC, the JWS
    /// form r || s (32 bytes each); for RSA, PKCS#1 v1.5.
    func verifies(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        defer { ERR_clear_error() }
        var signatureBytes = signature
        if kind == .ecP256 {
            guard signature.count == 64 else { return false }
            var der = [UInt8](repeating: 0, count: 80)
            let length = der.withUnsafeMutableBufferPointer { out in
                mbcrypto_ecdsa_raw_to_der(signature, 32, out.baseAddress, out.count)
            }
            guard length > 0 else { return false }
            signatureBytes = Array(der[..<length])
        }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { return false }
        return EVP_DigestVerify(context, signatureBytes, signatureBytes.count, message, message.count) == 1
    }
}
