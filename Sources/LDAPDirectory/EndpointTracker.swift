import Foundation
import WritebackCore

/// Health of the configured URIs, shared by all connections of a pool. It exists to decide
/// fail-over in one place: connections try URIs in configured order, skipping those that
/// failed recently; a URI that failed is retried after `retryAfter` seconds, so the pool
/// moves back to the first URI once it answers again.
final class EndpointTracker: Sendable {
    struct State: Sendable {
        var up: Bool
        var lastError: String?
        var downSince: Date?
    }

    let uris: [String]
    let retryAfter: TimeInterval
    private let states: Locked<[State]>

    init(uris: [String], retryAfter: TimeInterval = 30) {
        self.uris = uris
        self.retryAfter = retryAfter
        states = Locked(uris.map { _ in State(up: true, lastError: nil, downSince: nil) })
    }

    /// Indexes to try, best first: URIs that are up or due for a retry in configured order,
    /// then the ones that failed recently (a last resort when everything is down).
    func order(now: Date = Date()) -> [Int] {
        states.withLock { states in
            var fresh: [Int] = [], stale: [Int] = []
            for (i, s) in states.enumerated() {
                if s.up || (s.downSince.map { now.timeIntervalSince($0) >= retryAfter } ?? true) {
                    fresh.append(i)
                } else {
                    stale.append(i)
                }
            }
            return fresh + stale
        }
    }

    /// The URI a connection should be on now (for falling back to a better one).
    func preferred(now: Date = Date()) -> Int { order(now: now).first ?? 0 }

    func markUp(_ i: Int) {
        states.withLock { $0[i] = State(up: true, lastError: nil, downSince: nil) }
    }

    func markDown(_ i: Int, error: String, now: Date = Date()) {
        states.withLock { states in
            states[i].up = false
            states[i].lastError = error
            states[i].downSince = now
        }
    }

    func health() -> [EndpointHealth] {
        states.withLock { states in
            zip(uris, states).map { EndpointHealth(uri: $0, up: $1.up, lastError: $1.lastError) }
        }
    }

    var anyUp: Bool { states.withLock { $0.contains { $0.up } } }

    /// When every URI is down and the newest of their failures is less than `window` seconds
    /// old: how long ago that failure was. Nil otherwise (some URI up, or time to try again).
    func allDownWithin(_ window: TimeInterval, now: Date = Date()) -> TimeInterval? {
        states.withLock { states in
            guard !states.isEmpty, !states.contains(where: \.up) else { return nil }
            let newest = states.compactMap(\.downSince).max()
            guard let newest, now.timeIntervalSince(newest) < window else { return nil }
            return now.timeIntervalSince(newest)
        }
    }
}
