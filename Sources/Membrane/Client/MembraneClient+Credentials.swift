extension MembraneClient {
    /// Replaces the token. Calls already in flight keep the one they started
    /// with; a provider or signer set before is dropped. Each of these token
    /// settings empties the cache: the answers were the old token's to see.
    public func setToken(_ token: String) throws(MembraneError) {
        credentials.replace(with: .fixed(try Token(token)))
        cache.invalidate(nil)
    }

    /// Asks `provider` for a token before the first request, when the token
    /// is about to expire (read from its `exp` claim: renewed when less than
    /// a tenth of its lifetime or 60 s remains), and once after a 401. At most
    /// one call at a time; it runs on a thread of its own, and a call that
    /// waits longer than its deadline for it fails with `.timeout`. An error
    /// it returns fails the lookups that waited for it.
    public func setTokenProvider(_ provider: @escaping @Sendable () -> Result<String, MembraneError>) {
        credentials.replace(with: .provider(provider))
        cache.invalidate(nil)
    }

    /// Signs the client's own tokens with the workspace secret (HS512, or
    /// HS256): for `tenantKey`, or workspace management (admin) tokens when
    /// it is nil. Renewed before they expire (lifetime: `setTokenLifetime`).
    public func useWorkspaceSecret(workspaceKey: String, secret: String, tenantKey: String?,
                                   useHS256: Bool = false) throws(MembraneError) {
        credentials.replace(with: .signer(try JWTSigner(workspaceKey: workspaceKey, secret: secret,
                                                        tenantKey: tenantKey, useHS256: useHS256)))
        cache.invalidate(nil)
    }

    /// Signs the client's own tokens with the private key in a PEM file
    /// (ES256 for an EC P-256 key, RS256 for RSA), for workspaces that
    /// uploaded the public key.
    public func usePrivateKey(workspaceKey: String, pemFile path: String, tenantKey: String?) throws(MembraneError) {
        credentials.replace(with: .signer(try JWTSigner(workspaceKey: workspaceKey, privateKeyFile: path,
                                                        tenantKey: tenantKey)))
        cache.invalidate(nil)
    }

    /// How long the tokens the client signs live, in seconds (default 7200).
    public func setTokenLifetime(seconds: Int) throws(MembraneError) {
        try credentials.setLifetime(seconds: Int64(seconds))
    }
}
