import CJansson

/// The opt-in cache of successful lookups: at most `maximumEntries`
/// answers, each kept `ttlMilliseconds`, the least recently used dropped
/// first. Off (and empty) while the TTL is 0, the default.
///
/// It keeps its own copy of each answer (the parsed tree and the body as
/// sent) and every hit hands out a new copy, so no caller's edits reach the
/// cache or another caller. Answers fetched with secrets, and errors, are
/// never stored.
///
/// A lookup takes a ``Stamp`` before it asks for a token and stores its
/// answer only if nothing since invalidated it: an answer fetched with a
/// token since replaced, or for a selector invalidated meanwhile, never
/// lands in the emptied cache (answers for other selectors still do).
final class ResponseCache: Sendable {
    static let defaultMaximumEntries = 1024
    static let maximumEntriesRange: ClosedRange<Int> = 1...1_000_000
    static let ttlRange: ClosedRange<Int> = 0...(24 * 3600 * 1000)

    private struct Entry {
        let selector: String
        let json: JSONValue
        let body: [UInt8]
        let expires: Int64
        /// Neighbours in recency order (indices into `State.entries`).
        var newer = -1
        var older = -1
    }

    /// The entries, a map from selector to place, and a list through the
    /// places from newest to oldest: every operation is O(1).
    private struct State {
        var ttlMilliseconds = 0
        var maximumEntries = ResponseCache.defaultMaximumEntries
        var entries: [Entry?] = []
        var places: [String: Int] = [:]
        var freePlaces: [Int] = []
        var newest = -1
        var oldest = -1
        /// Emptying the cache (a token change, TTL 0, invalidating all)
        /// starts a new generation.
        var generation: UInt64 = 0
        /// Invalidating one selector takes the next ticket and notes it for
        /// that selector; bounded: past `maximumNotes`, a new generation.
        var tickets: UInt64 = 0
        var invalidated: [String: UInt64] = [:]

        mutating func unlink(_ place: Int) {
            let (newer, older) = (entries[place]!.newer, entries[place]!.older)
            if newer >= 0 { entries[newer]!.older = older } else { newest = older }
            if older >= 0 { entries[older]!.newer = newer } else { oldest = newer }
        }

        mutating func pushNewest(_ place: Int) {
            entries[place]!.newer = -1
            entries[place]!.older = newest
            if newest >= 0 { entries[newest]!.newer = place }
            newest = place
            if oldest < 0 { oldest = place }
        }

        mutating func remove(_ place: Int) {
            unlink(place)
            places[entries[place]!.selector] = nil
            entries[place] = nil
            freePlaces.append(place)
        }

        mutating func newGeneration() {
            generation &+= 1
            invalidated.removeAll()
        }

        mutating func removeAll() {
            newGeneration()
            entries.removeAll()
            places.removeAll()
            freePlaces.removeAll()
            newest = -1
            oldest = -1
        }

        mutating func insert(_ entry: Entry) {
            let place: Int
            if let free = freePlaces.popLast() {
                place = free
                entries[place] = entry
            } else {
                place = entries.count
                entries.append(entry)
            }
            places[entry.selector] = place
            pushNewest(place)
        }
    }

    private let state = Locked(State())

    func setTTL(milliseconds: Int) throws(MembraneError) {
        guard Self.ttlRange.contains(milliseconds) else {
            throw .invalidArgument("the cache TTL must be 0 to \(Self.ttlRange.upperBound) ms")
        }
        state.withLock { state in
            state.ttlMilliseconds = milliseconds
            if milliseconds == 0 { state.removeAll() }
        }
    }

    func setMaximumEntries(_ count: Int) throws(MembraneError) {
        guard Self.maximumEntriesRange.contains(count) else {
            throw .invalidArgument("the cache size must be 1 to \(Self.maximumEntriesRange.upperBound) entries")
        }
        state.withLock { state in
            state.maximumEntries = count
            while state.places.count > count { state.remove(state.oldest) }
        }
    }

    /// Drops the answer for `selector`, or every answer when nil.
    func invalidate(_ selector: String?) {
        state.withLock { state in
            guard let selector else { return state.removeAll() }
            if state.invalidated.count >= Self.maximumNotes {
                state.newGeneration()
            }
            state.tickets &+= 1
            state.invalidated[selector] = state.tickets
            if let place = state.places[selector] { state.remove(place) }
        }
    }

    /// When a lookup started, as far as invalidations go.
    struct Stamp: Sendable {
        let generation: UInt64
        /// The last ticket given out, and the one the selector was last
        /// invalidated with (0: not in this generation).
        let ticket: UInt64
        let selectorTicket: UInt64
        /// Whether the cache was on: a lookup that started with it off
        /// stores nothing (and copies no tree to store).
        let storable: Bool
    }

    /// What ``probe(_:consultingKept:)`` found: the kept answer (the cache's
    /// own: copy the tree before handing it out), and the stamp.
    struct Probe {
        let kept: (json: JSONValue, body: [UInt8])?
        let stamp: Stamp
    }

    /// How many selectors' invalidations are remembered before the cache
    /// starts a new generation instead.
    static let maximumNotes = 4096

    /// What a lookup of `selector` finds as it starts, under one lock: the
    /// answer kept for it (only when `consultingKept`, young enough; it is
    /// then the most recently used), and the stamp a miss stores under. With
    /// the cache off this is one lock and no hashing.
    func probe(_ selector: String, consultingKept: Bool) -> Probe {
        state.withLock { state -> Probe in
            let stamp = Stamp(generation: state.generation, ticket: state.tickets,
                              selectorTicket: state.invalidated.isEmpty ? 0 : state.invalidated[selector] ?? 0,
                              storable: state.ttlMilliseconds > 0)
            guard consultingKept, state.ttlMilliseconds > 0, let place = state.places[selector],
                  let entry = state.entries[place] else {
                return Probe(kept: nil, stamp: stamp)
            }
            guard entry.expires > Deadline.now() else {
                state.remove(place)
                return Probe(kept: nil, stamp: stamp)
            }
            state.unlink(place)
            state.pushNewest(place)
            return Probe(kept: (entry.json, entry.body), stamp: stamp)
        }
    }

    /// How many answers are kept (expired ones included until looked up).
    var count: Int { state.withLock { $0.places.count } }

    /// Keeps a copy of a successful answer (lookups without secrets only)
    /// made by a lookup that started at `stamp`, unless the cache was
    /// emptied or the selector invalidated since.
    func store(_ selector: String, json: JSONValue, body: [UInt8], stamp: Stamp) {
        guard stamp.storable, let copy = copyParsedTree(json.pointer) else { return }
        let kept = JSONValue(owning: copy)
        state.withLock { state in
            guard state.ttlMilliseconds > 0, state.generation == stamp.generation,
                  (state.invalidated[selector] ?? 0) <= stamp.ticket else { return }
            if let place = state.places[selector] { state.remove(place) }
            if state.places.count >= state.maximumEntries { state.remove(state.oldest) }
            state.insert(Entry(selector: selector, json: kept, body: body,
                               expires: Deadline.now() + Int64(state.ttlMilliseconds)))
        }
    }
}
