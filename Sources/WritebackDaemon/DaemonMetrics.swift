import CoreMetrics
import Foundation
import Metrics
import Outbox
import Prometheus
import Synchronization
import WritebackCore

/// The Prometheus metrics the contract names (`writebackd_requests_total{outcome}`,
/// `writebackd_queue_depth{state}`, `writebackd_directory_write_seconds`,
/// `writebackd_directory_up{uri}`, `writebackd_pickup_seconds`) plus a few operators want
/// (directory errors, the wake-up source in force).
/// Every directory metric has the label `directory` (its configured name, "default" for a
/// single `[directory]` table), and `writebackd_directory_requests_total{directory,outcome}`
/// splits the terminal requests by the directory they were routed to; `requests_total` stays
/// the daemon-wide count (requests no directory owns are counted there only).
/// Recorded through swift-metrics with a private `PrometheusMetricsFactory`, so the `metrics`
/// command always has a registry to print, whether or not the process bootstrapped the
/// global metrics system.
public final class DaemonMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    private let outcomeCounters: Mutex<[String: CoreMetrics.Counter]> = Mutex([:])
    private let directoryOutcomeCounters: Mutex<[String: CoreMetrics.Counter]> = Mutex([:])
    private let directoryUp: Mutex<[String: CoreMetrics.Gauge]> = Mutex([:])
    private let queueDepth: [RequestState: CoreMetrics.Gauge]
    private let writeTimers: Mutex<[String: Metrics.Timer]> = Mutex([:])
    private let oldestPending: CoreMetrics.Gauge
    private let directoryErrors: Mutex<[String: CoreMetrics.Counter]> = Mutex([:])
    private let pickupTimer: Metrics.Timer
    private let stepTimers: [PipelineStep: Metrics.Timer]
    private let recordTimers: [RecordPart: Metrics.Timer]
    private let wakeupSource: [WakeupSource: CoreMetrics.Gauge]
    private let outboxMessages: [String: CoreMetrics.Gauge]
    private let outboxOldest: CoreMetrics.Gauge

    /// `directories`: the configured names, whose series appear from the first scrape.
    public init(directories: [String] = ["default"]) {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            .seconds(5), .seconds(10),
        ]
        self.factory = factory
        var depth: [RequestState: CoreMetrics.Gauge] = [:]
        for state in RequestState.allCases {
            depth[state] = CoreMetrics.Gauge(label: "writebackd_queue_depth", dimensions: [("state", state.rawValue)], factory: factory)
        }
        queueDepth = depth
        oldestPending = CoreMetrics.Gauge(label: "writebackd_oldest_pending_seconds", dimensions: [], factory: factory)
        // created_at → claimed, for a row's first claim: how long a request waited to be picked up.
        pickupTimer = Metrics.Timer(label: "writebackd_pickup_seconds", dimensions: [], factory: factory)
        // Claimed → terminal, step by step, for a request written in this claim.
        stepTimers = Dictionary(uniqueKeysWithValues: PipelineStep.allCases.map {
            ($0, Metrics.Timer(label: "writebackd_pipeline_seconds", dimensions: [("step", $0.rawValue)], factory: factory))
        })
        // The record step's three parts, each on its own (the step waits for the slowest).
        recordTimers = Dictionary(uniqueKeysWithValues: RecordPart.allCases.map {
            ($0, Metrics.Timer(label: "writebackd_record_seconds", dimensions: [("part", $0.rawValue)], factory: factory))
        })
        // 1 for the source in force (`status` `wakeup`), 0 for the others.
        wakeupSource = Dictionary(uniqueKeysWithValues: WakeupSource.allCases.map {
            ($0, CoreMetrics.Gauge(label: "writebackd_wakeup_source", dimensions: [("source", $0.rawValue)], factory: factory))
        })
        // The outbox backlog (contrib/prometheus alerts on it growing): messages by state.
        var outbox: [String: CoreMetrics.Gauge] = [:]
        for state in ["pending", "deferred", "failed"] {
            outbox[state] = CoreMetrics.Gauge(label: "writebackd_outbox_messages", dimensions: [("state", state)], factory: factory)
        }
        outboxMessages = outbox
        outboxOldest = CoreMetrics.Gauge(label: "writebackd_outbox_oldest_pending_seconds", dimensions: [], factory: factory)
        // Every outcome appears from the start (at 0), so rates work from the first scrape.
        for code in OutcomeCode.allCases { _ = counter(outcome: code.rawValue) }
        for name in directories {
            _ = writeTimer(directory: name)
            _ = counter(outcome: OutcomeCode.succeeded.rawValue, directory: name)
        }
    }

    private func counter(outcome: String, directory: String) -> CoreMetrics.Counter {
        directoryOutcomeCounters.withLock { counters in
            let key = directory + "\u{0}" + outcome
            if let c = counters[key] { return c }
            let c = CoreMetrics.Counter(label: "writebackd_directory_requests_total",
                                        dimensions: [("directory", directory), ("outcome", outcome)], factory: factory)
            counters[key] = c
            return c
        }
    }

    private func writeTimer(directory: String) -> Metrics.Timer {
        writeTimers.withLock { timers in
            if let t = timers[directory] { return t }
            let t = Metrics.Timer(label: "writebackd_directory_write_seconds", dimensions: [("directory", directory)], factory: factory)
            timers[directory] = t
            return t
        }
    }

    private func counter(outcome: String) -> CoreMetrics.Counter {
        outcomeCounters.withLock { counters in
            if let c = counters[outcome] { return c }
            let c = CoreMetrics.Counter(label: "writebackd_requests_total", dimensions: [("outcome", outcome)], factory: factory)
            counters[outcome] = c
            return c
        }
    }

    /// A request ended with `outcome`; `directory`: the one it was routed to, if any.
    public func requestFinished(_ outcome: Outcome, directory: String? = nil) {
        counter(outcome: outcome.code.rawValue).increment()
        if let directory { counter(outcome: outcome.code.rawValue, directory: directory).increment() }
    }

    public func directoryWrite(seconds: Double, directory: String = "default") {
        writeTimer(directory: directory).recordNanoseconds(Int64(seconds * 1e9))
    }

    /// A request was claimed for the first time `seconds` after it was queued.
    public func pickup(seconds: Double) { pickupTimer.recordNanoseconds(Int64(seconds * 1e9)) }

    /// One step of a request's way from claimed to terminal took `duration`.
    public func pipeline(_ step: PipelineStep, _ duration: Duration) { stepTimers[step]?.recordSeconds(duration.timeInterval) }
    public func record(_ part: RecordPart, _ duration: Duration) { recordTimers[part]?.recordSeconds(duration.timeInterval) }

    public func wakeup(source: WakeupSource) {
        for (s, gauge) in wakeupSource { gauge.record(s == source ? 1 : 0) }
    }

    /// A directory call failed; `kind` is the error's case (unavailable, timed_out, ...).
    public func directoryError(kind: String, directory: String = "default") {
        let c = directoryErrors.withLock { counters in
            let key = directory + "\u{0}" + kind
            if let c = counters[key] { return c }
            let c = CoreMetrics.Counter(label: "writebackd_directory_errors_total", dimensions: [("kind", kind), ("directory", directory)], factory: factory)
            counters[key] = c
            return c
        }
        c.increment()
    }

    public func queue(counts: [RequestState: Int], oldestPending age: TimeInterval?) {
        for (state, gauge) in queueDepth { gauge.record(Double(counts[state] ?? 0)) }
        oldestPending.record(age ?? 0)
    }

    public func outbox(_ backlog: OutboxBacklog) {
        outboxMessages["pending"]?.record(Double(backlog.pending))
        outboxMessages["deferred"]?.record(Double(backlog.deferred))
        outboxMessages["failed"]?.record(Double(backlog.failed))
        outboxOldest.record(backlog.oldestPendingSeconds ?? 0)
    }

    public func directory(health: [EndpointHealth], of directory: String = "default") {
        for endpoint in health {
            let gauge = directoryUp.withLock { gauges in
                let key = directory + "\u{0}" + endpoint.uri
                if let g = gauges[key] { return g }
                let g = CoreMetrics.Gauge(label: "writebackd_directory_up", dimensions: [("uri", endpoint.uri), ("directory", directory)], factory: factory)
                gauges[key] = g
                return g
            }
            gauge.record(endpoint.up ? 1 : 0)
        }
    }

    /// Prometheus text exposition format.
    public func exposition() -> String { registry.emitToString() }
}

extension DirectoryError {
    /// A short label for metrics and logs.
    var kindLabel: String {
        switch self {
        case .unavailable: "unavailable"
        case .timedOut: "timed_out"
        case .permission: "permission"
        case .passwordRejected: "password_rejected"
        case .wrongOldPassword: "wrong_old_password"
        case .notFound: "not_found"
        case .ambiguous: "ambiguous"
        case .transient: "transient"
        case .bindFailed: "bind_failed"
        case .other: "other"
        }
    }
}

/// The steps `writebackd_pipeline_seconds{step}` splits a written request's time after its
/// claim into, in order: `verify` (signature, payload, unsealing), `lookup` (the user and groups
/// in the directory), `replay` (what is left of the state store's seen check, which runs beside
/// the two before), `rules` (a readback, throttle, effective policy, history, password rules),
/// `intent` (what is left of the queue commit before the write, which runs beside the rules),
/// `write` (the directory write, also `writebackd_directory_write_seconds`), `record`
/// (state store, confirmation and audit line, side by side) and `complete` (the queue row made
/// terminal). Exists so an operator, and the pickup bench, can see where the time goes.
public enum PipelineStep: String, CaseIterable, Sendable {
    case verify, lookup, replay, rules, intent, write, record, complete
}

/// The parts of the `record` step, made durable side by side, each timed on its own in
/// `writebackd_record_seconds{part}`: `state` (the state store's commit), `outbox` (the
/// confirmation's files and journal line) and `audit` (the audit line's sync). The step lasts
/// as long as the slowest; the drain bench prints the three.
public enum RecordPart: String, CaseIterable, Sendable {
    case state, outbox, audit
}
