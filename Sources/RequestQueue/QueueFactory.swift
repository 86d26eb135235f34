import Foundation
import WritebackCore

/// Picks the storage implementation the configuration names. This build has SQLite only;
/// `postgres` (several daemons sharing one queue) is refused with a clear error rather than
/// silently falling back to a local file.
public enum QueueFactory {
    public static func open(config: QueueConfig) throws -> any RequestQueueStore {
        switch config.backend {
        case .postgres:
            throw QueueError.unsupportedBackend("postgres")
        case .sqlite:
            guard let path = config.path, !path.isEmpty else { throw QueueError.missingPath(section: "queue") }
            return try SQLiteRequestQueue(path: path, retentionDays: config.retentionDays)
        }
    }

    public static func open(config: StateConfig) throws -> any StateStore {
        if let url = config.url, !url.isEmpty {
            throw QueueError.unsupportedBackend(url.hasPrefix("postgres") ? "postgres" : url)
        }
        guard let path = config.path, !path.isEmpty else { throw QueueError.missingPath(section: "state") }
        return try SQLiteStateStore(path: path)
    }
}
