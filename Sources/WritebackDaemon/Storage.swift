import Logging
import PostgresQueue
import RequestQueue
import WritebackCore

/// Opens the queue and the state store the configuration names: SQLite files (one daemon) or
/// PostgreSQL (several daemons sharing one queue). The one place that knows both backends;
/// the daemon, `writebackctl` and `doctor` see only the protocols.
public enum Storage {
    /// `create: false` (read-only tools such as `result`): a SQLite file must exist already,
    /// and a PostgreSQL schema is not created or migrated.
    public static func queue(_ config: QueueConfig, logger: Logger, create: Bool = true) async throws -> any RequestQueueStore {
        switch config.backend {
        case .sqlite:
            guard let path = config.path, !path.isEmpty else { throw QueueError.missingPath(section: "queue") }
            return create ? try SQLiteRequestQueue(path: path, retentionDays: config.retentionDays) : try SQLiteRequestQueue.openExisting(path: path)
        case .postgres:
            guard let url = config.url, !url.isEmpty else { throw QueueError.missingPath(section: "queue") }
            return try await PostgresRequestQueue(url: url, retentionDays: config.retentionDays, notifyChannel: config.notifyChannel,
                                                  logger: logger, migrate: create)
        }
    }

    /// What wakes the poller early on `queue`: LISTEN on the PostgreSQL channel, inotify on
    /// the SQLite file, or nothing (the poll interval alone).
    public static func wakeSource(for queue: any RequestQueueStore, config: QueueConfig, logger: Logger) -> any QueueWakeSource {
        if let sqlite = queue as? SQLiteRequestQueue { return config.watchFile ? SQLiteQueueWatcher(queue: sqlite) : PollOnlyWakeSource() }
        if let postgres = queue as? PostgresRequestQueue { return postgres.wakeSource(logger: logger) }
        return PollOnlyWakeSource()
    }

    public static func state(_ config: StateConfig, logger: Logger) async throws -> any StateStore {
        if let url = config.url, !url.isEmpty { return try await PostgresStateStore(url: url, logger: logger) }
        guard let path = config.path, !path.isEmpty else { throw QueueError.missingPath(section: "state") }
        return try SQLiteStateStore(path: path)
    }
}
