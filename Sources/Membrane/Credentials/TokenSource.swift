/// Where a client's tokens come from.
enum TokenSource: Sendable {
    /// One token, kept until replaced (`membrane_client_set_token`).
    case fixed(Token)
    /// The host's callback, asked before the first request, before the token
    /// expires and once after a 401. Returns the token, or the error that
    /// fails the lookups waiting for it.
    case provider(@Sendable () -> Result<String, MembraneError>)
    /// Tokens the client signs itself (workspace secret or private key).
    case signer(JWTSigner)
}

/// A token as a call uses it: the value, its request headers, and when it
/// expires (from its `exp` claim), if it says.
struct IssuedToken: Sendable {
    let token: Token
    let headers: HeaderList
    /// Seconds since the epoch.
    let expiresAt: Int64?
    /// Seconds since the epoch, when the client got it.
    let receivedAt: Int64
    /// Which token this is, among all the client has held.
    let serial: Int

    init(_ token: Token, serial: Int, now: Int64) {
        self.token = token
        headers = HeaderList(["Authorization: Bearer \(token.value)", "Accept: application/json"])
        expiresAt = JWTReading.expiry(of: token.value)
        receivedAt = now
        self.serial = serial
    }

    /// Renewed when less than a tenth of its lifetime, or 60 s, remains,
    /// whichever is less (and at once when it has expired).
    func needsRenewal(now: Int64) -> Bool {
        guard let expiresAt else { return false }
        let lifetime = max(0, expiresAt - receivedAt)
        return expiresAt - now <= min(lifetime / 10, 60)
    }
}
