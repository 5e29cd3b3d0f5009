/// One GET started without blocking, from its token to its one completion:
/// the token (asked for without blocking; the wait for a token provider
/// bounded by the request's deadline), the transfer on the client's I/O
/// thread, one more attempt with a new token after a 401, and the end,
/// reached exactly once whichever comes first: the answer, a failure, the
/// deadline, or a cancel.
final class PendingRequest: @unchecked Sendable {
    typealias Finish = @Sendable (Exchange, Call) -> Void

    private struct State {
        var call: Call
        var done = false
        var transfer: TransferLoop.Ticket?
        /// The timer that ends a wait for a token at the deadline.
        var tokenTimer: TransferLoop.Ticket?
        var token: IssuedToken?
        /// Whether the one new token after a 401 was asked for already.
        var renewed = false
        /// Attempts made with tokens before the current one.
        var earlierAttempts = 0
        /// Sharing: whether this request leads the flight for its path (and
        /// must land it), or follows another's.
        var leading = false
        var following = false
        /// Its caller cancelled it while others followed: the transfer runs
        /// on, and its end lands the flight for them.
        var handedOver = false
    }

    private let path: String
    private let transport: Transport
    private let credentials: Credentials
    private let state: Locked<State>
    private let finish: Finish
    /// Called once the request has ended (the registry forgets it then).
    private let ended: @Sendable () -> Void
    /// Where lookups of the same path at the same moment share a request,
    /// and this one's key there.
    typealias Sharing = (flights: SharedFlights, key: String)
    /// Set when lookups of the same path at the same moment share a request.
    private let sharing: Sharing?

    init(path: String, call: Call, transport: Transport, credentials: Credentials, sharing: Sharing? = nil,
         ended: @escaping @Sendable () -> Void, finish: @escaping Finish) {
        self.path = path
        self.sharing = sharing
        self.transport = transport
        self.credentials = credentials
        self.ended = ended
        self.finish = finish
        state = Locked(State(call: call))
    }

    /// Follows the request in flight for the same path, if there is one;
    /// otherwise asks for the token, and the rest follows from the callbacks.
    func begin() {
        if let (flights, key) = sharing {
            if flights.joinOrLead(key, waiter: { [self] in landed($0) }) {
                state.withLock { $0.following = true }
                boundWait()
                return
            }
            state.withLock { $0.leading = true }
        }
        sendOwn()
    }

    private func sendOwn() {
        credentials.issue { [self] in tokenReady($0) }
        boundWait()
    }

    /// The shared request this one followed has ended.
    private func landed(_ landing: SharedFlights.Landing) {
        let retry = state.withLock { state -> Bool? in
            guard !state.done else { return nil }
            state.following = false
            if landing.isLeadersOwn && !state.call.deadline.hasPassed { return true }
            state.call.tokens += landing.tokens
            state.call.expiredAt = landing.expiredAt
            return false
        }
        switch retry {
        case true?:
            cancelTimer()
            begin()
        case false?: complete(landing.exchange)
        case nil: break
        }
    }

    /// Ends the request with `.canceled` now; false when it had already
    /// ended. Its transfer stops, unless `handingOver` and it leads a flight
    /// others follow: then the transfer runs on for them (they would
    /// otherwise each start again, a round trip later).
    @discardableResult
    func cancel(handingOver: Bool) -> Bool {
        complete(Exchange(outcome: .failure(MembraneError(code: .canceled, message: "the request was cancelled")),
                          attempts: 0), handingOver: handingOver)
    }

    // MARK: Steps

    /// While no token has come (a provider is being asked), or while it
    /// follows another request, the deadline still holds: a timer on the I/O
    /// thread ends the wait.
    private func boundWait() {
        let deadline = state.withLock { state -> Deadline? in
            state.done || (state.token != nil && !state.following) || state.tokenTimer != nil ? nil : state.call.deadline
        }
        guard let deadline else { return }
        let timer: TransferLoop.Ticket
        do throws(MembraneError) {
            timer = try transport.schedule(at: deadline) { [self] in
                let following = state.withLock { $0.following }
                complete(Exchange(outcome: .failure(MembraneError(
                    code: .timeout,
                    message: following ? "the request timed out, waiting for the same lookup made by another call"
                        : "no token within the call's deadline (the token provider has not answered)")),
                    attempts: 0))
            }
        } catch {
            complete(Exchange(outcome: .failure(error), attempts: 0))
            return
        }
        let stale = state.withLock { state -> Bool in
            if state.done || (state.token != nil && !state.following) || state.tokenTimer != nil { return true }
            state.tokenTimer = timer
            return false
        }
        if stale { transport.cancel(timer) }
    }

    private func cancelTimer() {
        let timer = state.withLock { state -> TransferLoop.Ticket? in
            defer { state.tokenTimer = nil }
            return state.tokenTimer
        }
        if let timer { transport.cancel(timer) }
    }

    private func tokenReady(_ result: Result<IssuedToken, MembraneError>) {
        let token: IssuedToken
        switch result {
        case .success(let issued): token = issued
        case .failure(let error):
            complete(Exchange(outcome: .failure(error), attempts: state.withLock { $0.earlierAttempts }))
            return
        }
        let prepared = state.withLock { state -> (TransportRequest, ClientSettings, TransferLoop.Ticket?)? in
            guard !state.done else { return nil }
            state.token = token
            state.call.tokens.append(token.token.value)
            defer { state.tokenTimer = nil }
            let settings = state.call.settings
            return (settings.request(for: path, token: token, deadline: state.call.deadline, waitsForSlot: true),
                    settings, state.tokenTimer)
        }
        guard let (request, settings, timer) = prepared else { return }
        if let timer { transport.cancel(timer) }
        let transfer: TransferLoop.Ticket
        do throws(MembraneError) {
            transfer = try transport.start(request, policy: settings.retryPolicy, parallel: settings.maximumParallel) {
                [self] exchange in transferEnded(exchange)
            }
        } catch {
            complete(Exchange(outcome: .failure(error), attempts: state.withLock { $0.earlierAttempts }))
            return
        }
        let stale = state.withLock { state -> Bool in
            if state.done { return true }
            state.transfer = transfer
            return false
        }
        if stale { transport.cancel(transfer) }
    }

    private func transferEnded(_ exchange: Exchange) {
        enum Next { case complete(Exchange), renew, landForFollowers(Exchange, Call) }
        let next = state.withLock { state -> Next? in
            if state.handedOver {
                state.handedOver = false
                state.transfer = nil
                return .landForFollowers(exchange, state.call)
            }
            guard !state.done else { return nil }
            state.transfer = nil
            let total = Exchange(outcome: exchange.outcome, attempts: state.earlierAttempts + exchange.attempts)
            guard exchange.isUnauthorized, !state.renewed, let token = state.token else { return .complete(total) }
            guard credentials.rejected(token) else {
                // A fixed token: say so when it has simply expired.
                if let expiry = token.expiresAt, expiry <= Credentials.epochSeconds() { state.call.expiredAt = expiry }
                return .complete(total)
            }
            state.renewed = true
            state.token = nil
            state.earlierAttempts = total.attempts
            return .renew
        }
        switch next {
        case .complete(let exchange): complete(exchange)
        case .renew: sendOwn()
        case .landForFollowers(let exchange, let call):
            // A 401 is not theirs to keep: with no renewal made for them,
            // followers send their own (as after a leader's cancel).
            guard let (flights, key) = sharing else { return }
            flights.land(key, SharedFlights.Landing(exchange: exchange, tokens: call.tokens, expiredAt: call.expiredAt,
                                                    leadersOwn: exchange.isUnauthorized ? true : nil))
        case nil: break
        }
    }

    /// The one end. false when the request had already ended.
    @discardableResult
    private func complete(_ exchange: Exchange, handingOver: Bool = false) -> Bool {
        // Asked before the lock: a follower joining just after only waits
        // for the next leader (the flight is landed below) or for this
        // transfer (handed over).
        let followed = handingOver && sharing.map { $0.flights.hasFollowers($0.key) } == true
        let ending = state.withLock { state -> (Call, TransferLoop.Ticket?, TransferLoop.Ticket?, Bool)? in
            guard !state.done else { return nil }
            state.done = true
            let handOver = followed && state.leading && state.transfer != nil
            defer {
                state.handedOver = handOver
                if !handOver { state.transfer = nil }
                state.tokenTimer = nil
                state.leading = false
            }
            return (state.call, handOver ? nil : state.transfer, state.tokenTimer, handOver ? false : state.leading)
        }
        guard let (call, transfer, timer, leading) = ending else { return false }
        if let transfer { transport.cancel(transfer) }
        if let timer { transport.cancel(timer) }
        // Followers get the answer (or, for a cancel, go on by themselves);
        // after a hand-over, the transfer's end lands the flight.
        if leading, let (flights, key) = sharing { flights.land(key, SharedFlights.Landing(exchange: exchange, tokens: call.tokens, expiredAt: call.expiredAt)) }
        ended()
        finish(exchange, call)
        return true
    }
}
