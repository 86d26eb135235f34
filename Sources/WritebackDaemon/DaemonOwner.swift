import Foundation

/// The host part of the daemon's lease owner name (`host:pid:random`). A lease owner on this
/// host whose process is gone is reclaimed at once (`DeadOwner`); one on another host only when
/// its lease runs out. Debug builds take `WRITEBACKD_TEST_OWNER_HOST` instead, so a test on one
/// machine can stage a daemon of another host and see its rows taken over after the lease;
/// release builds compile the switch away.
enum DaemonOwner {
    static func hostName(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        #if DEBUG
        if let host = environment["WRITEBACKD_TEST_OWNER_HOST"], !host.isEmpty { return host }
        #endif
        return ProcessInfo.processInfo.hostName
    }
}
