import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Checks a bearer token as the Membrane API documents its tokens: a JWT signed
/// with the workspace secret (HS256, HS512) or with the private key whose public
/// key the workspace holds (ES256, RS256), naming the workspace in `workspaceKey`
/// (older tokens: `iss`), with an `exp` still in the future. Answers the claims,
/// or why the token is refused. Messages never contain the token.
struct TokenVerifier: Sendable {
    let workspaceKey: String
    let secret: [UInt8]?
    let publicKey: PublicKey?

    /// How far in the future `nbf` and `iat` may be (clock skew). `exp` gets none.
    static let futureLeeway = 60.0

    enum Rejection: Error, Equatable {
        case malformed(String)
        case unsupportedAlgorithm(String)
        case badSignature
        case wrongWorkspace(String)
        case noExpiry
        case expired(Double)
        case notYetValid(Double)
        case issuedInFuture(Double)

        var message: String {
            switch self {
            case .malformed(let why): "malformed token: \(why)"
            case .unsupportedAlgorithm(let why): "unsupported algorithm: \(why)"
            case .badSignature: "bad signature"
            case .wrongWorkspace(let why): "wrong workspace: \(why)"
            case .noExpiry: "token has no exp claim"
            case .expired(let exp): "token expired at \(isoTime(exp))"
            case .notYetValid(let nbf): "token not valid before \(isoTime(nbf)) (nbf)"
            case .issuedInFuture(let iat): "token issued in the future, at \(isoTime(iat)) (iat)"
            }
        }
    }

    /// `now`: seconds since the epoch.
    func verify(_ token: Substring, now: Double = Date().timeIntervalSince1970) -> Result<[String: JSONValue], Rejection> {
        let parts = token.split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(.malformed("not three dot-separated parts")) }
        guard let headerBytes = Base64URL.decode(parts[0]),
              let header = (try? JSONValue.parse(headerBytes))?.objectValue
        else { return .failure(.malformed("the header is not a base64url JSON object")) }
        guard let payloadBytes = Base64URL.decode(parts[1]),
              let claims = (try? JSONValue.parse(payloadBytes))?.objectValue
        else { return .failure(.malformed("the payload is not a base64url JSON object")) }
        guard let signature = Base64URL.decode(parts[2]) else {
            return .failure(.malformed("the signature is not base64url"))
        }
        guard let algorithm = header["alg"]?.stringValue else {
            return .failure(.malformed("the header has no alg"))
        }
        // Extensions that must be understood: none are.
        guard header["crit"] == nil else { return .failure(.malformed("the header has crit, which this server does not support")) }

        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        if let refusal = checkSignature(algorithm: algorithm, signingInput: signingInput, signature: signature) {
            return .failure(refusal)
        }
        if let refusal = checkClaims(claims, now: now) { return .failure(refusal) }
        return .success(claims)
    }

    private func checkSignature(algorithm: String, signingInput: [UInt8], signature: [UInt8]) -> Rejection? {
        switch algorithm {
        case "HS256", "HS512":
            guard let secret else {
                return .unsupportedAlgorithm("\(algorithm) needs a workspace secret, and this server has none (--workspace-secret)")
            }
            let hash: Signatures.HMACHash = algorithm == "HS256" ? .sha256 : .sha512
            return Signatures.hmacMatches(hash, key: secret, message: signingInput, signature: signature) ? nil : .badSignature
        case "ES256", "RS256":
            guard let publicKey else {
                return .unsupportedAlgorithm("\(algorithm) needs a public key, and this server has none (--public-key)")
            }
            guard publicKey.kind.algorithm == algorithm else {
                return .unsupportedAlgorithm("\(algorithm), but this server's public key is for \(publicKey.kind.algorithm)")
            }
            return publicKey.verifies(signature, of: signingInput) ? nil : .badSignature
        default:
            return .unsupportedAlgorithm("'\(Self.shown(algorithm))' (accepted: HS256, HS512, ES256, RS256)")
        }
    }

    private func checkClaims(_ claims: [String: JSONValue], now: Double) -> Rejection? {
        // workspaceKey wins; older tokens name the workspace in iss.
        guard let named = claims["workspaceKey"] ?? claims["iss"] else {
            return .wrongWorkspace("the token names no workspace (workspaceKey, or iss)")
        }
        guard let workspace = named.stringValue else {
            return .wrongWorkspace("the token's workspaceKey is a \(named.typeName), not a string")
        }
        guard workspace == workspaceKey else {
            return .wrongWorkspace("the token is for workspace '\(Self.shown(workspace))'")
        }

        guard let expiry = claims["exp"] else { return .noExpiry }
        guard let exp = Self.seconds(expiry) else { return .malformed("exp is not a number") }
        // RFC 7519 §4.1.4: the current time must be before exp; no leeway.
        guard now < exp else { return .expired(exp) }
        if let value = claims["nbf"] {
            guard let nbf = Self.seconds(value) else { return .malformed("nbf is not a number") }
            if nbf > now + Self.futureLeeway { return .notYetValid(nbf) }
        }
        if let value = claims["iat"] {
            guard let iat = Self.seconds(value) else { return .malformed("iat is not a number") }
            if iat > now + Self.futureLeeway { return .issuedInFuture(iat) }
        }
        return nil
    }

    private static func seconds(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number) where number.isFinite: number
        default: nil
        }
    }

    /// A value taken from the token, cut short for a message.
    private static func shown(_ text: String) -> String {
        text.count > 64 ? String(text.prefix(64)) + "…" : text
    }
}

/// `2024-05-01T12:00:00Z` (UTC, whole seconds); the plain number when out of
/// the years 1–9999.
func isoTime(_ seconds: Double) -> String {
    guard seconds.isFinite, (-62_135_596_800.0...253_402_300_799.0).contains(seconds) else {
        return "\(seconds) (seconds since the epoch)"
    }
    var time = time_t(seconds.rounded(.down))
    var parts = tm()
    guard gmtime_r(&time, &parts) != nil else { return "\(seconds) (seconds since the epoch)" }
    func padded(_ value: Int32, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))"
        + "T\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))Z"
}
