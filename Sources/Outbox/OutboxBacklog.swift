import Foundation
import WritebackCore

/// The outbox's backlog for `writebackctl status` and metrics: messages not yet delivered,
/// those waiting for a retry, and those given up on. Counting is a directory listing, cheap at
/// the sizes an outbox reaches; it needs no deliverer, so the daemon can show it either way.
public struct OutboxBacklog: Sendable, Hashable, Codable {
    /// Messages in `new/` (all of them when there is no sendmail command: nothing delivers).
    public var pending: Int
    /// Of those, messages whose last delivery attempt failed and that wait for a retry.
    public var deferred: Int
    /// Messages in `failed/`: an operator should look at the `.reason` files.
    public var failed: Int
    /// Age of the oldest message in `new/`.
    public var oldestPendingSeconds: Double?
    /// Whether a sendmail command is configured.
    public var deliveryEnabled: Bool

    enum CodingKeys: String, CodingKey {
        case pending, deferred, failed
        case oldestPendingSeconds = "oldest_pending_seconds"
        case deliveryEnabled = "delivery_enabled"
    }

    /// Scans the outbox of `config` (missing folders count as empty).
    public static func scan(_ config: OutboxConfig, now: Date = Date()) -> OutboxBacklog {
        scan(OutboxDirectory(path: config.dir), deliveryEnabled: !config.sendmail.isEmpty, now: now)
    }

    static func scan(_ directory: OutboxDirectory, deliveryEnabled: Bool, now: Date) -> OutboxBacklog {
        let pending = directory.names(in: .new).filter { $0.hasSuffix(".eml") }
        let oldest = pending.compactMap { directory.modified(directory.path(.new, $0)) }.min()
        let deferred = directory.names(in: .state).filter { $0.hasSuffix(".json") }.count
        let failed = directory.names(in: .failed).filter { $0.hasSuffix(".eml") }.count
        return OutboxBacklog(pending: pending.count, deferred: deferred, failed: failed,
                             oldestPendingSeconds: oldest.map { max(0, now.timeIntervalSince($0)) },
                             deliveryEnabled: deliveryEnabled)
    }
}
