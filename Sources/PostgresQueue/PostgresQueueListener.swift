import Logging
import PostgresNIO
import Synchronization
import WritebackCore

/// The PostgreSQL wake source: one pooled connection held for `LISTEN` on the queue's
/// channel, so the `NOTIFY` of a portal's plain INSERT (the schema's trigger) wakes every
/// daemon at once; `FOR UPDATE SKIP LOCKED` in `claim` stays the arbiter, so the daemons a
/// row wakes do not fight over it. When the connection is lost (a server restart, the network)
/// the source reports `.poll`, the poller keeps its interval, and the listener connects again
/// with a backoff (0.25 s doubling to 5 s); after each (re)connect it wakes the poller once,
/// for whatever was inserted while nobody listened. A `SELECT 1` every `pingInterval` on the
/// listening connection finds a connection that died silently.
final class PostgresQueueListener: QueueWakeSource {
    let db: PostgresDatabase
    let channel: String
    let pingInterval: Duration
    /// The daemon's logger (the pool's own is quiet below warning).
    let logger: Logger
    private let source = Mutex(WakeupSource.poll)

    init(db: PostgresDatabase, channel: String, logger: Logger, pingInterval: Duration = .seconds(10)) {
        self.db = db; self.channel = channel; self.logger = logger; self.pingInterval = pingInterval
    }

    var current: WakeupSource { source.withLock { $0 } }

    /// Why one listening session ended.
    enum SessionEnd: Error { case notificationsEnded }

    func run(wake: @escaping @Sendable () -> Void) async {
        var backoff = Duration.milliseconds(250)
        var outageLogged = false
        while !Task.isCancelled {
            do {
                try await db.client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        // Confirms the LISTEN before saying so: a query runs after it on the connection.
                        try await connection.query("SELECT 1", logger: db.logger)
                        source.withLock { $0 = .notify }
                        backoff = .milliseconds(250)
                        if outageLogged { logger.notice("listening for queue notifications again", metadata: ["channel": "\(channel)"]) }
                        outageLogged = false
                        wake()
                        try await withThrowingTaskGroup(of: Void.self) { group in
                            group.addTask {
                                for try await _ in notifications { wake() }
                                throw SessionEnd.notificationsEnded
                            }
                            group.addTask {
                                while true {
                                    try await Task.sleep(for: self.pingInterval)
                                    try await connection.query("SELECT 1", logger: self.db.logger)
                                }
                            }
                            _ = try await group.next()
                            group.cancelAll()
                        }
                    }
                }
            } catch {
                if Task.isCancelled { break }
                source.withLock { $0 = .poll }
                if !outageLogged {
                    // One line per outage, not one per attempt.
                    logger.warning("cannot listen for queue notifications; polling until the connection is back", metadata: [
                        "channel": "\(channel)", "error": "\(PostgresStoreError.describe(error))",
                    ])
                    outageLogged = true
                }
            }
            source.withLock { $0 = .poll }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
        source.withLock { $0 = .poll }
    }
}
