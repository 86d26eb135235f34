import Foundation
import WritebackCore

/// `connections` directory connections, each an actor on its own thread, shared by all
/// requests. It exists so that flavours can say "run this on some connection" without
/// knowing about threads or fail-over: each call goes to the connection with the fewest calls
/// in flight, and is awaited without blocking the caller's thread.
///
/// Affinity: a task started with `executorPreference: pool.taskExecutor(forWorker: i)` runs
/// on connection i's thread, and its calls go to connection i without a thread switch
/// (one worker per connection, as the daemon runs them).
public final class LDAPPool: Sendable {
    private let connections: [LDAPConnection]
    private let inFlight: Locked<[Int]>
    let tracker: EndpointTracker
    public let settings: ConnectionSettings

    public init(settings: ConnectionSettings, connections: Int) {
        self.settings = settings
        let tracker = EndpointTracker(uris: settings.uris)
        self.tracker = tracker
        let n = max(1, connections)
        self.connections = (0..<n).map { LDAPConnection(name: "ldap-\($0)", settings: settings, tracker: tracker) }
        inFlight = Locked(Array(repeating: 0, count: n))
    }

    /// Runs `body` with a service-bound handle on one connection's thread. `idempotent`:
    /// reads may be retried once on a fresh connection when the old one was gone; writes are
    /// not (an unknown outcome is decided by reading back).
    public func withHandle<T: Sendable>(idempotent: Bool = true,
                                        _ body: @escaping @Sendable (LDAPHandle) throws(LDAPError) -> T) async throws(LDAPError) -> T {
        let i = acquire()
        defer { release(i) }
        return try await connections[i].run(idempotent: idempotent, body)
    }

    /// Runs `body` on a short-lived handle bound as `bind` (user password changes), on a pool
    /// connection's thread and URI.
    public func withHandle<T: Sendable>(boundAs bind: LDAPBind,
                                        _ body: @escaping @Sendable (LDAPHandle) throws(LDAPError) -> T) async throws(LDAPError) -> T {
        let i = acquire()
        defer { release(i) }
        return try await connections[i].runAs(bind, body)
    }

    /// Health of each configured URI.
    public func health() -> [EndpointHealth] { tracker.health() }

    /// Closes every handle and ends the connection threads.
    public func shutdown() async {
        for c in connections { await c.close() }
    }

    /// The executor a worker task should prefer so that its directory calls stay on one
    /// connection's thread: worker `i` uses connection `i % connections`.
    public func taskExecutor(forWorker i: Int) -> any TaskExecutor {
        connections[i % connections.count].executor
    }

    private func acquire() -> Int {
        let here = connections.firstIndex { $0.executor.isCurrent }
        return inFlight.withLock { counts in
            if let here {
                counts[here] += 1
                return here
            }
            var best = 0
            for i in counts.indices where counts[i] < counts[best] { best = i }
            counts[best] += 1
            return best
        }
    }

    private func release(_ i: Int) { inFlight.withLock { $0[i] -= 1 } }
}
