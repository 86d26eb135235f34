import Foundation
import Logging
import Outbox
import RequestQueue
import ServiceLifecycle
import WritebackCore

/// Keeps the slow-moving facts fresh: queue depth and oldest pending age (metrics), the
/// directory endpoints' health, per directory (`directory_down`, `writebackd_directory_up`), the systemd
/// STATUS line, WATCHDOG=1 when systemd asks for it, and the hourly prune of expired replay
/// ids. One timer, a few cheap queries: the idle daemon stays near zero CPU.
final class MonitorService: Service, Sendable {
    let queue: any RequestQueueStore
    let stateStore: any StateStore
    let lanes: [DirectoryLane]
    let state: DaemonState
    let metrics: DaemonMetrics
    let systemd: SystemdNotifier
    let logger: Logger
    let interval: Duration
    /// The queue's wake source, whose current mode `status` and metrics show.
    let wakeSource: any QueueWakeSource
    /// The outbox backlog for the metrics (a directory listing); nil: not measured.
    let outboxBacklog: (@Sendable () -> OutboxBacklog)?

    init(queue: any RequestQueueStore, stateStore: any StateStore, lanes: [DirectoryLane], state: DaemonState,
         metrics: DaemonMetrics, systemd: SystemdNotifier, logger: Logger, interval: Duration = .seconds(5),
         wakeSource: any QueueWakeSource = PollOnlyWakeSource(), outboxBacklog: (@Sendable () -> OutboxBacklog)? = nil) {
        self.queue = queue; self.stateStore = stateStore; self.lanes = lanes; self.state = state
        self.metrics = metrics; self.systemd = systemd; self.logger = logger; self.wakeSource = wakeSource
        self.outboxBacklog = outboxBacklog
        self.interval = SystemdNotifier.watchdogInterval().map { min($0, interval) } ?? interval
    }

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        var lastStatus = ""
        var lastPrune = Date.distantPast
        while !Task.isCancelled {
            let now = Date()
            let line = await refresh(now: now)
            if line != lastStatus { systemd.status(line); lastStatus = line }
            systemd.watchdog()
            if now.timeIntervalSince(lastPrune) > 3600 {
                do { try await stateStore.prune(now: now) } catch { logger.warning("state prune failed", metadata: ["error": "\(error)"]) }
                // Terminal rows past `[queue] retention_days`; replay ids live on in the state store.
                do {
                    let removed = try await queue.pruneTerminal(now: now)
                    if removed > 0 { logger.info("pruned terminal requests", metadata: ["rows": "\(removed)"]) }
                } catch { logger.warning("queue prune failed", metadata: ["error": "\(error)"]) }
                lastPrune = now
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Reads counts and health into metrics and state; returns the one-line STATUS summary.
    @discardableResult
    func refresh(now: Date) async -> String {
        for lane in lanes {
            let health = await lane.directory.health()
            state.directoryHealth(health, of: lane.name)
            metrics.directory(health: health, of: lane.name)
        }
        metrics.wakeup(source: wakeSource.current)
        var counts: [RequestState: Int] = [:]
        var oldest: TimeInterval?
        do {
            counts = try await queue.counts()
            oldest = try await queue.oldestPending(now: now)
            metrics.queue(counts: counts, oldestPending: oldest)
        } catch {
            logger.warning("cannot read queue counts", metadata: ["error": "\(error)"])
        }
        if let backlog = outboxBacklog?() { metrics.outbox(backlog) }
        let snapshot = state.snapshot
        let down = snapshot.directories.count > 1 ? snapshot.directories.filter(\.down).map(\.name) : []
        return Self.statusLine(phase: snapshot.phase, counts: counts, oldest: oldest, perMinute: state.throughput(lastSeconds: 60, now: now),
                               directoriesDown: down)
    }

    /// `directoriesDown`: with several directories, those down while the daemon runs on.
    static func statusLine(phase: DaemonState.Phase, counts: [RequestState: Int], oldest: TimeInterval?, perMinute: Int,
                           directoriesDown: [String] = []) -> String {
        var s = "\(phase.rawValue): \(counts[.pending] ?? 0) pending, \(counts[.inProgress] ?? 0) in progress, \(perMinute)/min"
        if let oldest, oldest >= 1 { s += ", oldest pending \(Int(oldest)) s" }
        if phase != .directoryDown, !directoriesDown.isEmpty { s += ", directory down: " + directoriesDown.joined(separator: ", ") }
        return s
    }
}
