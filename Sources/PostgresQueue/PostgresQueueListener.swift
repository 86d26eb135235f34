import Logging
import PostgresNIO
import Synchronization
import WritebackCore

/// The PostgreSQL wake source: a connection of its own (not one of the pool's) that `LISTEN`s on
/// the queue's channel, so the `NOTIFY` of a portal's plain INSERT (the schema's trigger) wakes
/// every daemon at once; `FOR UPDATE SKIP LOCKED` in `claim` stays the arbiter, so the daemons a
/// row wakes do not fight over it. When the connection is lost (a server restart, the network)
/// the source reports `.poll`, the poller keeps its interval, and the listener connects again
/// with a backoff (0.25 s doubling to 5 s); after each (re)connect it wakes the poller once, for
/// whatever was inserted while nobody listened. A `SELECT 1` every `pingInterval`, answered
/// within `pingTimeout`, finds a connection that died silently. Its own connection because a
/// pool lease waits for a connection however long the server is away, while a connect fails
/// after `connectTimeout`.
final class PostgresQueueListener: QueueWakeSource {
    let db: PostgresDatabase
    let channel: String
    let pingInterval: Duration
    let pingTimeout: Duration
    /// The daemon's logger (the pool's own is quiet below warning).
    let logger: Logger
    private let source = Mutex(WakeupSource.poll)

    init(db: PostgresDatabase, channel: String, logger: Logger, pingInterval: Duration = .seconds(10), pingTimeout: Duration = .seconds(10)) {
        self.db = db; self.channel = channel; self.logger = logger; self.pingInterval = pingInterval; self.pingTimeout = pingTimeout
    }

    var current: WakeupSource { source.withLock { $0 } }

    /// Why one listening session ended.
    enum SessionEnd: Error { case notificationsEnded, pingTimedOut }

    func run(wake: @escaping @Sendable () -> Void) async {
        var backoff = Duration.milliseconds(250)
        var outageLogged = false
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try db.location.connectionConfiguration(), id: 1, logger: db.logger)
                do {
                    try await session(connection, wake: wake) {
                        backoff = .milliseconds(250)
                        if outageLogged { self.logger.notice("listening for queue notifications again", metadata: ["channel": "\(self.channel)"]) }
                        outageLogged = false
                    }
                    try? await connection.close()
                } catch {
                    try? await connection.close()
                    throw error
                }
            } catch {
                if Task.isCancelled { break }
                fallBackToPoll(wake: wake)
                if !outageLogged {
                    // One line per outage, not one per attempt.
                    logger.warning("cannot listen for queue notifications; polling until the connection is back", metadata: [
                        "channel": "\(channel)", "error": "\(PostgresStoreError.describe(error))",
                    ])
                    outageLogged = true
                }
            }
            fallBackToPoll(wake: wake)
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
        source.withLock { $0 = .poll }
    }

    /// Reports `poll`; when this ends a listening session it also wakes the poller, which
    /// then waits `poll_interval_ms` again instead of its sparse safety-net interval.
    private func fallBackToPoll(wake: @Sendable () -> Void) {
        let wasListening = source.withLock { s -> Bool in
            defer { s = .poll }
            return s != .poll
        }
        if wasListening { wake() }
    }

    /// One listening session on `connection`; returns or throws when it ends.
    private func session(_ connection: PostgresConnection, wake: @escaping @Sendable () -> Void, listening: () -> Void) async throws {
        try await connection.listen(on: channel) { notifications in
            // Confirms the LISTEN before saying so: a query runs after it on the connection.
            try await ping(connection)
            source.withLock { $0 = .notify }
            listening()
            wake()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in notifications { wake() }
                    throw SessionEnd.notificationsEnded
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: self.pingInterval)
                        try await self.ping(connection)
                    }
                }
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }

    /// `SELECT 1`, answered within `pingTimeout` or thrown.
    private func ping(_ connection: PostgresConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await connection.query("SELECT 1", logger: self.db.logger) }
            group.addTask {
                try await Task.sleep(for: self.pingTimeout)
                throw SessionEnd.pingTimedOut
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }
}
