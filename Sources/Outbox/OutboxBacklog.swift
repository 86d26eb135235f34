import Foundation
import Synchronization
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

    /// One scan, with nothing kept (the scanner's listing, used once).
    static func scan(_ directory: OutboxDirectory, deliveryEnabled: Bool, now: Date) -> OutboxBacklog {
        OutboxBacklogScanner(directory: directory, deliveryEnabled: deliveryEnabled).scan(now: now)
    }
}

/// `OutboxBacklog.scan` for a caller that asks again and again (the daemon's monitor, every
/// 5 s, and `status`): a folder is listed again only when its modification time changed, so an
/// idle daemon whose outbox holds many undelivered messages (no sendmail: another program
/// collects them) does not stat every one of them each time. Measured: with 200 messages in
/// `new/`, the idle daemon used 0.30–0.37 % of a core rescanning, 0.10 % with 60.
public final class OutboxBacklogScanner: Sendable {
    /// A listing is trusted only if the folder had not changed for this long when it was
    /// taken: a change within the file system's timestamp granularity of the listing could
    /// otherwise leave the folder's time unchanged and the listing stale.
    static let settled: TimeInterval = 2

    /// What a folder's listing gave: counts and a date, not the names (an outbox of 10,000
    /// messages would otherwise be held twice).
    private struct Listing {
        let folderModified: timespec
        let count: Int
        let oldest: Date?
    }

    private let directory: OutboxDirectory
    private let deliveryEnabled: Bool
    private let cache = Mutex<[OutboxDirectory.Folder: Listing]>([:])

    public convenience init(_ config: OutboxConfig) {
        self.init(directory: OutboxDirectory(path: config.dir), deliveryEnabled: !config.sendmail.isEmpty)
    }

    init(directory: OutboxDirectory, deliveryEnabled: Bool) {
        self.directory = directory
        self.deliveryEnabled = deliveryEnabled
    }

    public func scan(now: Date = Date()) -> OutboxBacklog {
        let pending = listing(.new, suffix: ".eml", now: now, oldest: true)
        let deferred = listing(.state, suffix: ".json", now: now, oldest: false)
        let failed = listing(.failed, suffix: ".eml", now: now, oldest: false)
        return OutboxBacklog(pending: pending.count, deferred: deferred.count, failed: failed.count,
                             oldestPendingSeconds: pending.oldest.map { max(0, now.timeIntervalSince($0)) },
                             deliveryEnabled: deliveryEnabled)
    }

    private func listing(_ folder: OutboxDirectory.Folder, suffix: String, now: Date, oldest: Bool) -> Listing {
        var info = stat()
        let folderModified = stat(directory.path(folder), &info) == 0 ? info.st_mtim : timespec()
        if let cached = cache.withLock({ $0[folder] }), cached.folderModified.tv_sec == folderModified.tv_sec,
           cached.folderModified.tv_nsec == folderModified.tv_nsec {
            return cached
        }
        let names = directory.names(in: folder).filter { $0.hasSuffix(suffix) }
        let listing = Listing(folderModified: folderModified, count: names.count,
                              oldest: oldest ? names.compactMap { directory.modified(directory.path(folder, $0)) }.min() : nil)
        let changedAt = Date(timeIntervalSince1970: TimeInterval(folderModified.tv_sec) + TimeInterval(folderModified.tv_nsec) / 1e9)
        if now.timeIntervalSince(changedAt) >= Self.settled {
            cache.withLock { $0[folder] = listing }
        } else {
            _ = cache.withLock { $0.removeValue(forKey: folder) }
        }
        return listing
    }
}
