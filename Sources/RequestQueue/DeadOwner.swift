import Foundation
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
}
