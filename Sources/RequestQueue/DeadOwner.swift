import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Recognises lease owners that are certainly gone. The daemon names its owner
/// `host:pid:random`; a SQLite queue is a local file, so a holder on this host whose process
/// no longer exists (`kill(pid, 0)` → ESRCH) holds nothing in flight, and its rows can be
/// reclaimed at once instead of after `lease_seconds`. Anything else (another host, a pid that
/// exists — perhaps reused —, an owner in another format) is treated as alive: the lease decides.
public enum DeadOwner {
    static let hostName = ProcessInfo.processInfo.hostName

    public static func isDead(_ owner: String) -> Bool {
        let parts = owner.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, String(parts[0]) == hostName, let pid = pid_t(parts[1]), pid > 1 else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }

    /// Spaces the look for dead holders (a query per claim on PostgreSQL) to once per
    /// `interval` of the claims' `now`: a dead daemon's rows are then free within that interval
    /// instead of at once, still long before its lease runs out. A `now` before the last look
    /// (a clock set back) looks again.
    public final class CheckSpacing: Sendable {
        private let last = Mutex<Date?>(nil)
        let interval: TimeInterval

        public init(interval: TimeInterval = 1) { self.interval = interval }

        /// Whether to look now; if so, counts this as the last look.
        public func due(_ now: Date) -> Bool {
            last.withLock { last in
                if let l = last, now >= l, now.timeIntervalSince(l) < interval { return false }
                last = now
                return true
            }
        }
    }
}
