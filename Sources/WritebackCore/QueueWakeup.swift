import Foundation

/// How the poller learns that the queue has work (`status` `wakeup`, the metric
/// `writebackd_wakeup_source`): PostgreSQL `LISTEN`/`NOTIFY`, inotify on the SQLite file, or
/// only the poll interval (a source that cannot listen right now falls back to it).
public enum WakeupSource: String, Sendable, Hashable, CaseIterable {
    case notify, inotify, poll
}

/// Wakes the poller the moment another process queues a request, so pick-up does not wait for
/// the next poll; polling stays as the safety net. Exists so the worker does not know which
/// backend it drains: PostgreSQL listens on a channel, SQLite watches its files.
public protocol QueueWakeSource: Sendable {
    /// Runs until the calling task is cancelled, calling `wake` whenever the queue may hold new
    /// claimable rows (a spurious call costs one claim query; a missed one costs a poll). Never
    /// throws: when it cannot listen it reports `.poll` in `current` and keeps trying.
    func run(wake: @escaping @Sendable () -> Void) async
    /// The source in force now.
    var current: WakeupSource { get }
}

/// No wake-ups at all: the poll interval alone (a backend without a wake source).
public struct PollOnlyWakeSource: QueueWakeSource {
    public init() {}
    public func run(wake: @escaping @Sendable () -> Void) async {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }
    public var current: WakeupSource { .poll }
}

/// Which daemon holds what (`status` `owners`): the in-progress rows of one lease owner.
public struct LeaseHolding: Sendable, Hashable {
    /// The daemon's owner name, `host:pid:random`.
    public var owner: String
    public var count: Int
    /// The earliest lease among them: when a dead owner's rows become claimable by the others.
    public var earliestExpiry: Date?
    /// Up to a few of the ids it holds, oldest first.
    public var ids: [String]
    public init(owner: String, count: Int, earliestExpiry: Date?, ids: [String]) {
        self.owner = owner; self.count = count; self.earliestExpiry = earliestExpiry; self.ids = ids
    }
}

/// `[queue] notify_channel`: a PostgreSQL channel name the daemon puts into DDL (a trigger's
/// argument and name take no bind parameters), so only a plain lower-case identifier is
/// accepted: `[a-z_][a-z0-9_]*`, at most 40 bytes (the trigger's name adds 22 to it, and
/// PostgreSQL cuts names at 63).
public enum NotifyChannel {
    public static let maxLength = 40

    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= maxLength, first == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first)
        else { return false }
        return bytes.allSatisfy { $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
