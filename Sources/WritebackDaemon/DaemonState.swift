import Foundation
import Synchronization
import WritebackCore

/// What the daemon is doing right now, shared by the workers, the control socket, the
/// monitor and systemd notify. A `Mutex` rather than an actor: every access is a few field
/// reads or writes, and signal-driven code and synchronous callers need it without a hop.
public final class DaemonState: Sendable {
    /// `status` `state` values (DESIGN.md "Output").
    public enum Phase: String, Sendable { case running, paused, draining, directoryDown = "directory_down" }

    struct Inner {
        var runtime: DaemonRuntime
        var paused = false
        var draining = false
        var directoryDown = false
        var configLoadedAt: Date
        var configError: String?
        var lastSuccessAt: Date?
        var lastError: (at: Date, message: String)?
        var health: [EndpointHealth] = []
        /// Terminal requests per second over the last hour (a ring indexed by epoch second).
        var completions = [Int](repeating: 0, count: 3600)
        var completionStamps = [Int](repeating: -1, count: 3600)
    }

    public let startedAt: Date
    private let inner: Mutex<Inner>

    public init(runtime: DaemonRuntime, now: Date = Date()) {
        startedAt = now
        inner = Mutex(Inner(runtime: runtime, configLoadedAt: now))
    }

    public var runtime: DaemonRuntime { inner.withLock { $0.runtime } }
    public var isPaused: Bool { inner.withLock { $0.paused } }
    public var isDraining: Bool { inner.withLock { $0.draining } }

    public var phase: Phase {
        inner.withLock { s in
            if s.draining { return .draining }
            if s.paused { return .paused }
            return s.directoryDown ? .directoryDown : .running
        }
    }

    public func setPaused(_ paused: Bool) { inner.withLock { $0.paused = paused } }
    public func setDraining() { inner.withLock { $0.draining = true } }

    public func reloaded(_ runtime: DaemonRuntime, at now: Date) {
        inner.withLock { $0.runtime = runtime; $0.configLoadedAt = now; $0.configError = nil }
    }

    public func reloadFailed(_ message: String) { inner.withLock { $0.configError = message } }

    public func directoryHealth(_ health: [EndpointHealth]) {
        inner.withLock { s in
            s.health = health
            s.directoryDown = !health.isEmpty && !health.contains(where: \.up)
        }
    }

    public func directoryAnswered() { inner.withLock { $0.directoryDown = false } }
    public func directoryUnavailable(_ message: String, at now: Date) {
        inner.withLock { $0.directoryDown = true; $0.lastError = (now, message) }
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
        public var health: [EndpointHealth]
    }

    public var snapshot: Snapshot {
        let phase = self.phase
        return inner.withLock { s in
            Snapshot(phase: phase, configLoadedAt: s.configLoadedAt, configError: s.configError, lastSuccessAt: s.lastSuccessAt,
                     lastError: s.lastError?.message, lastErrorAt: s.lastError?.at, health: s.health)
        }
    }
}
