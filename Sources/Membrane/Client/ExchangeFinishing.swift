/// The one funnel between the transport and a caller: single lookups, text
/// lookups, pages and batches all finish their exchanges here, so every error
/// a caller sees has had the same treatment, once: the HTTP status it came
/// with attached, the attempts noted, the token removed.
extension ClientSettings {
    /// The model `build` makes of the exchange's answer, and the answer itself
    /// (the text path hands its body out), or the finished error.
    func finish<Model>(_ exchange: Exchange,
                       as build: (JSONValue) throws(MembraneError) -> Model) throws(MembraneError) -> (Model, HTTPResponse) {
        do throws(MembraneError) {
            let response = try exchange.outcome.get()
            return (try ResponseDecoding.decode(response, as: build), response)
        } catch {
            throw finished(error, attempts: exchange.attempts)
        }
    }

    /// An error the client raises itself about what it received (a cursor
    /// seen twice, say), finished like the others: it may quote the server.
    func finished(_ error: MembraneError, attempts: Int = 1) -> MembraneError {
        error.noting(attempts: attempts).sanitized(hiding: token.value)
    }
}
