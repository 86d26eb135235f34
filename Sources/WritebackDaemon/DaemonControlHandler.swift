import ControlSocket
import Foundation
import Logging
import Outbox
import WritebackCore

/// Answers the control socket's commands (DESIGN.md "Control socket", "Output") from the
/// daemon's live state. Authorisation has already happened in `ControlServer`; this type
/// logs who paused, resumed or reloaded.
final class DaemonControlHandler: ControlHandler, Sendable {
    let queue: any RequestQueueStore
    let state: DaemonState
    let metrics: DaemonMetrics
    let monitor: MonitorService
    let reloader: ConfigReloader
    let worker: QueueWorkerService
    let lanes: [DirectoryLane]
    let outboxBacklog: (@Sendable () -> OutboxBacklog)?
    let logger: Logger

    init(queue: any RequestQueueStore, state: DaemonState, metrics: DaemonMetrics, monitor: MonitorService,
         reloader: ConfigReloader, worker: QueueWorkerService, lanes: [DirectoryLane], outboxBacklog: (@Sendable () -> OutboxBacklog)?, logger: Logger) {
        self.queue = queue; self.state = state; self.metrics = metrics; self.monitor = monitor
        self.reloader = reloader; self.worker = worker; self.lanes = lanes; self.outboxBacklog = outboxBacklog; self.logger = logger
    }

    func handle(_ command: ControlCommand, request: ControlRequest, peer: PeerCredentials) async -> ControlReply {
        do {
            switch command {
            case .status: return .success(try await status(now: Date()))
            case .requests: return try await requests(request)
            case .metrics:
                await monitor.refresh(now: Date())
                return .success(.string(metrics.exposition()))
            case .pause:
                state.setPaused(true)
                logger.notice("paused: no new requests are claimed", metadata: ["peer": "\(peer)"])
                return .success(.object(["state": .string(state.phase.rawValue)]))
            case .resume:
                state.setPaused(false)
                worker.poke()
                logger.notice("resumed", metadata: ["peer": "\(peer)"])
                return .success(.object(["state": .string(state.phase.rawValue)]))
            case .reload:
                logger.notice("reload requested over the control socket", metadata: ["peer": "\(peer)"])
                if let error = reloader.reload() { return .failure("failed", "configuration not reloaded: \(error)") }
                return .success(.object(["config_loaded_at": .string(Timestamp.format(state.snapshot.configLoadedAt))]))
            }
        } catch {
            logger.error("control command failed", metadata: ["command": "\(command.rawValue)", "error": "\(error)"])
            return .failure("failed", "\(command.rawValue) failed: \(error)")
        }
    }

    func status(now: Date) async throws -> JSONValue {
        await monitor.refresh(now: now)
        let counts = try await queue.counts()
        let oldest = try await queue.oldestPending(now: now)
        let snap = state.snapshot
        let runtime = state.runtime
        var queueObject: [String: JSONValue] = [:]
        for s in RequestState.allCases { queueObject[s.rawValue] = .int(counts[s] ?? 0) }
        var object: [String: JSONValue] = [
            "state": .string(snap.phase.rawValue),
            "version": .string(WritebackDaemonInfo.version),
            "pid": .int(Int(getpid())),
            "uptime_seconds": .int(Int(now.timeIntervalSince(state.startedAt))),
            "queue": .object(queueObject),
            "oldest_pending_seconds": oldest.map { .number(($0 * 10).rounded() / 10) } ?? .null,
            // One entry per URI, named by its directory (DESIGN.md), and one per directory.
            "directory": .array(snap.directories.flatMap { d in
                d.health.map { .object(["name": .string(d.name), "uri": .string($0.uri), "up": .bool($0.up), "last_error": .optional($0.lastError)]) }
            }),
            "directories": .array(zip(snap.directories, runtime.config.directories).map { status, config in
                .object([
                    "name": .string(status.name),
                    "state": .string(status.down ? "down" : "up"),
                    "routes": .array(config.routes.map { .string($0.description) }),
                    "default": .bool(config.isDefault),
                    "in_flight": .int(lanes.first(where: { $0.name == status.name })?.inFlight ?? 0),
                    "last_error": .optional(status.lastError),
                ])
            }),
            "last_success_at": snap.lastSuccessAt.map { .string(Timestamp.format($0)) } ?? .null,
            "last_error": .optional(snap.lastError),
            "last_error_at": snap.lastErrorAt.map { .string(Timestamp.format($0)) } ?? .null,
            "config_file": .optional(runtime.config.sourcePath),
            "config_loaded_at": .string(Timestamp.format(snap.configLoadedAt)),
            "config_error": .optional(snap.configError),
            "throughput": .object([
                "last_minute": .int(state.throughput(lastSeconds: 60, now: now)),
                "last_hour": .int(state.throughput(lastSeconds: 3600, now: now)),
            ]),
            "workers": .int(worker.workers),
            "poll_interval_ms": .int(runtime.config.queue.pollIntervalMs),
            "wakeup": .string(worker.wakeSource.current.rawValue),
            "owner": .string(worker.processor.owner),
        ]
        // Which daemon holds what: several daemons share a PostgreSQL queue.
        object["owners"] = .array(try await queue.holdings(idsPerOwner: 10).map { h in
            .object([
                "owner": .string(h.owner), "in_progress": .int(h.count),
                "lease_expires_at": h.earliestExpiry.map { .string(Timestamp.format($0)) } ?? .null,
                "ids": .array(h.ids.map { .string($0) }),
            ])
        })
        if let backlog = outboxBacklog?() {
            object["outbox_backlog"] = .int(backlog.pending)
            object["outbox"] = .object([
                "pending": .int(backlog.pending), "deferred": .int(backlog.deferred), "failed": .int(backlog.failed),
                "oldest_pending_seconds": backlog.oldestPendingSeconds.map { .number(($0 * 10).rounded() / 10) } ?? .null,
                "delivery_enabled": .bool(backlog.deliveryEnabled),
            ])
        }
        return .object(object)
    }

    func requests(_ request: ControlRequest) async throws -> ControlReply {
        var filter: RequestState?
        if let name = request.state {
            guard let s = RequestState(rawValue: name) else {
                return .failure("bad_request", "unknown state \"\(name)\"; one of \(RequestState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter = s
        }
        let limit = request.limit ?? 50
        guard (1...10_000).contains(limit) else { return .failure("bad_request", "limit must be between 1 and 10000") }
        if let owner = request.owner, owner.isEmpty || owner.utf8.count > 256 {
            return .failure("bad_request", "owner must be 1 to 256 bytes")
        }
        let rows = try await queue.list(state: filter, owner: request.owner, limit: limit)
        // With several directories each row names its own; one directory keeps the
        // contract's fields exactly.
        let several = state.runtime.config.directories.count > 1
        return .success(.array(rows.map { row in
            var object: [String: JSONValue] = [
                "id": .string(row.id), "state": .string(row.state.rawValue), "outcome": .optional(row.outcome),
                "detail": .optional(row.detail), "attempts": .int(row.attempts),
                "created_at": .string(Timestamp.format(row.createdAt)),
                "completed_at": row.completedAt.map { .string(Timestamp.format($0)) } ?? .null,
            ]
            if several { object["directory"] = .optional(row.directory) }
            // Asked by owner: say whose each row is (the contract's fields otherwise).
            if request.owner != nil { object["owner"] = .optional(row.owner) }
            return .object(object)
        }))
    }
}

/// RFC 3339 UTC timestamps with milliseconds, as every JSON output of the daemon writes them.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// The same with microseconds (`2026-12-03T18:04:39.534123Z`): the audit line's
    /// `written_at`, which a latency of a few milliseconds is measured against.
    public static func formatMicroseconds(_ date: Date) -> String {
        // In whole microseconds first: a double's fraction (1.000004 is 1.0000038…) must not
        // be cut down to the microsecond below.
        let total = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (whole, micros) = (total.quotientAndRemainder(dividingBy: 1_000_000))
        let (seconds, fraction) = micros < 0 ? (whole - 1, micros + 1_000_000) : (whole, micros)
        let text = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(Date.ISO8601FormatStyle())
        return text.dropLast() + "." + String(String(fraction + 1_000_000).dropFirst()) + "Z"
    }
}

/// Build facts shown by `status`.
public enum WritebackDaemonInfo {
    public static let version = "0.1.0"
}
