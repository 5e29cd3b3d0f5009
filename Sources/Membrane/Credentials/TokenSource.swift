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
    /// Milliseconds since the epoch: when it was issued (`iat`) or, without
    /// that claim, when the client got it.
    let receivedAt: Int64
    /// Which token this is, among all the client has held.
    let serial: Int

    init(_ token: Token, serial: Int, nowMilliseconds: Int64) {
        self.token = token
        headers = HeaderList(["Authorization: Bearer \(token.value)", "Accept: application/json"])
        let times = JWTReading.times(of: token.value)
        expiresAt = times.expiry
        // The lifetime runs from `iat` when the token says (not from when it
        // reached us, up to a second later in the same second).
        receivedAt = times.issuedAt.map { min($0 * 1000, nowMilliseconds) } ?? nowMilliseconds
        self.serial = serial
    }

    /// Renewed when less than a tenth of its lifetime, or 60 s, remains,
    /// whichever is less (and at once when it has expired).
    func needsRenewal(nowMilliseconds now: Int64) -> Bool {
        guard let expiresAt else { return false }
        let expiry = expiresAt * 1000
        let lifetime = max(0, expiry - receivedAt)
        return expiry - now <= min(lifetime / 10, 60_000)
    }
}
