import Foundation

/// How long a directory's password policies are kept (DESIGN: "a few minutes"; SIGHUP clears).
let policyCacheTTL: Duration = .seconds(300)

/// A small map whose entries expire after `ttl` and which can be emptied at once (SIGHUP).
/// It exists so that facts the directory changes rarely — a group's readability, a user's
/// effective password policy, the domain's policy — are read once every few minutes instead of
/// once per request, and an administrator's change is seen after at most `ttl` (or a reload).
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Locked<[Key: (value: Value, expires: ContinuousClock.Instant)]>([:])
    let ttl: Duration
    /// Bound on the number of entries: when full, expired entries go, then everything.
    let capacity: Int

    init(ttl: Duration, capacity: Int = 4096) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The cached value for `key`, nil when absent or expired.
    func value(for key: Key, now: ContinuousClock.Instant = .now) -> Value? {
        entries.withLock { map in
            guard let hit = map[key] else { return nil }
            if hit.expires <= now { map[key] = nil; return nil }
            return hit.value
        }
    }

    func store(_ value: Value, for key: Key, now: ContinuousClock.Instant = .now) {
        entries.withLock { map in
            if map.count >= capacity {
                map = map.filter { $0.value.expires > now }
                if map.count >= capacity { map.removeAll(keepingCapacity: true) }
            }
            map[key] = (value, now + ttl)
        }
    }

    func removeAll() { entries.withLock { $0.removeAll() } }
}
