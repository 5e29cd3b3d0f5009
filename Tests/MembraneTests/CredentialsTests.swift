import Testing
@testable import Membrane

/// Reading and signing JWTs, and the renewal rule, without a server.
@Suite("Credentials")
struct CredentialsTests {
    @Test("base64url round-trips every length and refuses what is not base64url")
    func base64url() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(Substring(text)) == bytes)
        }
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("ab+c") == nil)
    }

    @Test("a signed token carries the claims and its exp is read back")
    func signAndRead() throws {
        let signer = try JWTSigner(workspaceKey: "wk", secret: "s3cret-value", tenantKey: "t", useHS256: false)
        let token = try signer.sign(nowMilliseconds: 1_700_000_000_500, lifetime: 60)
        let parts = token.split(separator: ".")
        #expect(parts.count == 3)
        let payload = try #require(Base64URL.decode(parts[1]))
        let text = String(decoding: payload, as: UTF8.self)
        #expect(text == #"{"exp":1700000061,"iat":1700000000,"tenantKey":"t","workspaceKey":"wk"}"#)
        #expect(JWTReading.times(of: token).expiry == 1_700_000_061)
        #expect(!token.contains("s3cret"))
    }

    @Test("renewed when less than a tenth of the lifetime (at most 60 s) remains")
    func renewalRule() throws {
        let signer = try JWTSigner(workspaceKey: "wk", secret: "s", tenantKey: nil, useHS256: true)
        let issuedAt: Int64 = 1_700_000_000_000
        let short = IssuedToken(try Token(signer.sign(nowMilliseconds: issuedAt, lifetime: 10)), serial: 1,
                                nowMilliseconds: issuedAt)
        #expect(!short.needsRenewal(nowMilliseconds: issuedAt + 8_900))
        #expect(short.needsRenewal(nowMilliseconds: issuedAt + 9_000))
        let long = IssuedToken(try Token(signer.sign(nowMilliseconds: issuedAt, lifetime: 7200)), serial: 2,
                               nowMilliseconds: issuedAt)
        #expect(!long.needsRenewal(nowMilliseconds: issuedAt + 7_139_000))
        #expect(long.needsRenewal(nowMilliseconds: issuedAt + 7_140_000))
        let opaque = IssuedToken(try Token("not-a-jwt"), serial: 3, nowMilliseconds: issuedAt)
        #expect(!opaque.needsRenewal(nowMilliseconds: issuedAt + 1_000_000_000))
    }

    @Test("bad claims and secrets are refused without quoting them")
    func refusals() {
        #expect(throws: MembraneError.self) { try JWTSigner(workspaceKey: "", secret: "s", tenantKey: nil, useHS256: false) }
        #expect(throws: MembraneError.self) { try JWTSigner(workspaceKey: "w", secret: "", tenantKey: nil, useHS256: false) }
        #expect(throws: MembraneError.self) { try JWTSigner(workspaceKey: "w\n", secret: "s", tenantKey: nil, useHS256: false) }
        let error = #expect(throws: MembraneError.self) {
            try JWTSigner(workspaceKey: "w", privateKeyFile: "/nonexistent/key.pem", tenantKey: nil)
        }
        #expect(error?.code == .invalidArgument)
    }
}
