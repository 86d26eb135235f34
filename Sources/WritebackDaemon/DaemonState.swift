import Foundation
import Synchronization
import WritebackCore

/// What the daemon is doing right now, shared by the workers, the control socket, the
/// monitor and systemd notify. A `Mutex` rather than an actor: every access is a few field
/// reads or writes, and signal-driven code and synchronous callers need it without a hop.
public final class DaemonState: Sendable {
    /// `status` `state` values (DESIGN.md "Output").
    public enum Phase: String, Sendable { case running, paused, draining, directoryDown = "directory_down" }

    /// One configured directory as `status` shows it: its endpoints, and whether requests
    /// routed to it wait (no URI answers). `directory_down` is the daemon's phase only when
    /// every directory is down; one down directory holds only its own requests.
    public struct DirectoryStatus: Sendable {
        public var name: String
        public var health: [EndpointHealth] = []
        public var down = false
        public var lastError: String?
    }

    struct Inner {
        var runtime: DaemonRuntime
        var paused = false
        var draining = false
        var directories: [DirectoryStatus]
        var configLoadedAt: Date
        var configError: String?
        var lastSuccessAt: Date?
        var lastError: (at: Date, message: String)?
        /// Terminal requests per second over the last hour (a ring indexed by epoch second).
        var completions = [Int](repeating: 0, count: 3600)
        var completionStamps = [Int](repeating: -1, count: 3600)
    }

    public let startedAt: Date
    private let inner: Mutex<Inner>

    public init(runtime: DaemonRuntime, now: Date = Date()) {
        startedAt = now
        inner = Mutex(Inner(runtime: runtime, directories: runtime.config.directories.map { DirectoryStatus(name: $0.name) },
                            configLoadedAt: now))
    }

    public var runtime: DaemonRuntime { inner.withLock { $0.runtime } }
    public var isPaused: Bool { inner.withLock { $0.paused } }
    public var isDraining: Bool { inner.withLock { $0.draining } }

    public var phase: Phase {
        inner.withLock { s in
            if s.draining { return .draining }
            if s.paused { return .paused }
            return s.directories.allSatisfy(\.down) ? .directoryDown : .running
        }
    }

    public func setPaused(_ paused: Bool) { inner.withLock { $0.paused = paused } }
    public func setDraining() { inner.withLock { $0.draining = true } }

    public func reloaded(_ runtime: DaemonRuntime, at now: Date) {
        inner.withLock { $0.runtime = runtime; $0.configLoadedAt = now; $0.configError = nil }
    }

    public func reloadFailed(_ message: String) { inner.withLock { $0.configError = message } }

    /// The monitor's reading of directory `name`'s endpoints: down when none is up.
    public func directoryHealth(_ health: [EndpointHealth], of name: String) {
        update(name) { d in
            d.health = health
            d.down = !health.isEmpty && !health.contains(where: \.up)
        }
    }

    /// A request reached directory `name` and it answered.
    public func directoryAnswered(_ name: String) { update(name) { $0.down = false } }

    /// No URI of directory `name` answered: its requests wait, the others' go on.
    public func directoryUnavailable(_ message: String, of name: String, at now: Date) {
        inner.withLock { s in
            s.lastError = (now, "directory \(name): " + message)
            if let i = s.directories.firstIndex(where: { $0.name == name }) {
                s.directories[i].down = true
                s.directories[i].lastError = message
            }
        }
    }

    public func isDirectoryDown(_ name: String) -> Bool {
        inner.withLock { s in s.directories.first(where: { $0.name == name })?.down ?? false }
    }

    private func update(_ name: String, _ body: (inout DirectoryStatus) -> Void) {
        inner.withLock { s in
            if let i = s.directories.firstIndex(where: { $0.name == name }) { body(&s.directories[i]) }
        }
    }

    public func recordError(_ message: String, at now: Date) { inner.withLock { $0.lastError = (now, message) } }

    /// Counts a terminal request for throughput; `succeeded` also moves `last_success_at`.
    public func recordTerminal(succeeded: Bool, at now: Date) {
        let second = Int(now.timeIntervalSince1970)
        inner.withLock { s in
            if succeeded { s.lastSuccessAt = now }
            let slot = second % 3600
            if s.completionStamps[slot] != second { s.completionStamps[slot] = second; s.completions[slot] = 0 }
            s.completions[slot] += 1
        }
    }

    /// Terminal requests in the last `seconds` seconds (at most 3600).
    public func throughput(lastSeconds seconds: Int, now: Date) -> Int {
        let current = Int(now.timeIntervalSince1970)
        return inner.withLock { s in
            var total = 0
            for slot in 0..<3600 where s.completionStamps[slot] > current - seconds && s.completionStamps[slot] <= current {
                total += s.completions[slot]
            }
            return total
        }
    }

    /// A consistent copy of the fields `status` shows.
    public struct Snapshot: Sendable {
        public var phase: Phase
        public var configLoadedAt: Date
        public var configError: String?
        public var lastSuccessAt: Date?
        public var lastError: String?
        public var lastErrorAt: Date?
        public var directories: [DirectoryStatus]
        /// Every directory's endpoints, in configured order.
        public var health: [EndpointHealth] { directories.flatMap(\.health) }
    }

    public var snapshot: Snapshot {
        let phase = self.phase
        return inner.withLock { s in
            Snapshot(phase: phase, configLoadedAt: s.configLoadedAt, configError: s.configError, lastSuccessAt: s.lastSuccessAt,
                     lastError: s.lastError?.message, lastErrorAt: s.lastError?.at, directories: s.directories)
        }
    }
}
