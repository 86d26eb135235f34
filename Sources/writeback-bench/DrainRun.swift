import Foundation
import RequestCodec
import RequestQueue
import WritebackCore

/// One measured drain: a fresh daemon world (DrainSetup), N signed and sealed resets for N
/// untouched bench users pre-queued while the daemon is paused (so its start-up is not
/// timed), then `resume` and the time until every row is terminal. The end is the last
/// row's `completed_at`, the daemon's own stamp, so the bench's polling does not add to it.
struct DrainRun {
    struct Result: Sendable {
        var name: String
        var requests: Int
        var seconds: Double
        var cpuSeconds: Double
        var peakRSSMiB: Double
        var outcomes: [String: Int]
        var latency: ArrivalLatency.Result?
        /// The daemon's own means per pipeline step over the drain (its metrics): where a
        /// request's time goes when many are in flight.
        var split = PickupBench.Split()
        var rate: Double { Double(requests) / max(seconds, 1e-9) }
        var cpuPer1000: Double { cpuSeconds / Double(max(1, requests)) * 1000 }
        /// Wall seconds per request.
        var cost: Double { seconds / Double(max(1, requests)) }
        var notSucceeded: Int { requests - (outcomes["succeeded"] ?? 0) + (latency?.notSucceeded ?? 0) }

        var json: [String: Any] {
            var j: [String: Any] = ["name": name, "requests": requests, "seconds": seconds, "resets_per_s": rate,
                                    "cpu_seconds": cpuSeconds, "cpu_s_per_1000": cpuPer1000, "peak_rss_mib": peakRSSMiB,
                                    "cost_ms_per_request": cost * 1000, "outcomes": outcomes]
            if let l = latency {
                j["latency"] = ["requests": l.samples.count, "p50_ms": l.p50 * 1000, "p99_ms": l.p99 * 1000,
                                "mean_ms": l.mean * 1000, "max_ms": l.max * 1000]
            }
            j["daemon_split_ms"] = split.json
            return j
        }
    }

    let binary: String
    let parent: String
    let slapd: BenchSlapd

    /// Drains resets for `users`; afterwards, when `latencyUsers` is not empty, measures
    /// enqueue→written for requests arriving one at a time on the same (now idle) daemon.
    /// `warmUsers` get one reset each before the timed drain, so the directory connections are
    /// open (StartTLS, bind) and the code is warm when the clock starts, as in a running daemon.
    func run(name: String, users: ClosedRange<Int>, warmUsers: ClosedRange<Int>, options: DrainSetup.Options,
             latencyUsers: ClosedRange<Int>? = nil) async throws -> Result {
        let setup = try DrainSetup(parent: parent, name: name, slapd: slapd, options: options)
        let queue = try setup.queue()
        let (rows, _) = try setup.resetRows(users: users)
        let daemon = try DaemonRunner(binary: binary, setup: setup, environment: options.environment)
        defer { daemon.stop() }
        try await daemon.waitReady()
        try await queue.enqueue(batch: try setup.resetRows(users: warmUsers).rows)
        let warmProbe = try QueueProbe(path: setup.queuePath)
        guard try await warmProbe.waitDrained(timeout: 300) else { throw BenchError.failed("\(name): warm-up did not finish: \(daemon.logTail())") }
        guard daemon.control("pause") else { throw BenchError.failed("pause refused; see \(setup.logPath)") }
        try await queue.enqueue(batch: rows)
        let probe = try QueueProbe(path: setup.queuePath)
        let cpu0 = daemon.cpuSeconds()
        let t0 = Date()
        guard daemon.control("resume") else { throw BenchError.failed("resume refused; see \(setup.logPath)") }
        let limit = max(120, Double(rows.count) / 20)
        guard try await probe.waitDrained(timeout: limit, every: .milliseconds(10)) else {
            throw BenchError.failed("\(name): not drained after \(Int(limit)) s; see \(setup.logPath)")
        }
        let cpu = daemon.cpuSeconds() - cpu0
        let end = try probe.lastCompletion() ?? Date()
        var outcomes = try probe.outcomes()
        outcomes["succeeded", default: 0] -= warmUsers.count
        var result = Result(name: name, requests: rows.count, seconds: end.timeIntervalSince(t0), cpuSeconds: cpu,
                            peakRSSMiB: daemon.peakRSSMiB(), outcomes: outcomes, latency: nil)
        result.split = PickupBench.daemonSplit(socket: daemon.socketPath)
        if let latencyUsers {
            let first = latencyUsers.lowerBound
            result.latency = try await ArrivalLatency.measure(count: latencyUsers.count, prepare: { k in
                try setup.resetRow(user: first + k, password: DrainSetup.newPassword())
            }, enqueue: { row in
                try await queue.enqueue(id: row.id, payload: row.payload, signature: row.signature)
                return row.id
            }, terminal: { id in
                // Both stamps are the queue file's own, so the bench's polling does not add to it.
                guard let row = try probe.row(id), let done = row.completedAt, let created = row.createdAt else { return nil }
                return .init(succeeded: row.outcome == "succeeded", latency: done.timeIntervalSince(created))
            })
            result.peakRSSMiB = daemon.peakRSSMiB()
        }
        daemon.stop()
        if result.notSucceeded > 0 {
            let failed = try probe.rows().values.filter { $0.outcome != "succeeded" }.prefix(3)
            print("  \(name): \(result.notSucceeded) not succeeded, e.g. \(failed.map { "\($0.outcome ?? "-") \($0.detail ?? "")" })")
        }
        return result
    }
}
