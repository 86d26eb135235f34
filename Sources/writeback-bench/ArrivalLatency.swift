import Foundation
import WritebackCore

/// Enqueue→terminal latency (and each insert's wall-clock start, for enqueue→written) for
/// requests that arrive one at a time, at random moments (so a polling daemon's poll phase is
/// sampled uniformly): each request is inserted, the next only
/// after the previous one is terminal plus a random gap. Shared by the drain bench (SQLite,
/// default configuration) and the pickup bench (SQLite and PostgreSQL, event-driven against
/// polling): any daemon and backend is measured by passing a `prepare` that builds request `k`
/// (signing and sealing are the portal's work, so the clock starts after them), an `enqueue`
/// that inserts it and returns its id, and a `terminal` that reads that row back.
enum ArrivalLatency {
    /// What `terminal` reports once a row is terminal. `latency` is the queue's own
    /// `completed_at − created_at` when the backend stamps both finely enough; nil means the
    /// bench's clock (from just before the insert until the row was seen terminal) is used.
    struct Done: Sendable {
        var succeeded: Bool
        var latency: Double?
    }

    struct Result: Sendable {
        /// Seconds, sorted.
        var samples: [Double]
        var p50: Double { percentile(0.50) }
        var p99: Double { percentile(0.99) }
        var max: Double { samples.last ?? 0 }
        var mean: Double { samples.isEmpty ? 0 : samples.reduce(0, +) / Double(samples.count) }
        /// Terminal rows whose outcome was not `succeeded`.
        var notSucceeded: Int
        /// Each request's wall-clock time just before its insert, by id: what the daemon's own
        /// stamps (the audit line's `written_at`) are measured against.
        var startedAt: [String: Date] = [:]

        /// Nearest rank.
        func percentile(_ q: Double) -> Double {
            guard !samples.isEmpty else { return 0 }
            let rank = Int((Double(samples.count) * q).rounded(.up)) - 1
            return samples[Swift.max(0, Swift.min(samples.count - 1, rank))]
        }
    }

    /// Measures `count` requests with a random pause of `gapMs` milliseconds between two.
    /// Throws when a request is not terminal within `timeout` seconds.
    /// `every`: how often `terminal` is asked (each ask is a query that competes with the
    /// daemon for the host's cores).
    static func measure<Row>(count: Int, gapMs: ClosedRange<Int> = 0...500, timeout: TimeInterval = 60,
                             every: Duration = .microseconds(500),
                             prepare: (Int) throws -> Row,
                             enqueue: (Row) async throws -> String,
                             terminal: (String) async throws -> Done?) async throws -> Result {
        var samples: [Double] = []
        var notSucceeded = 0
        var startedAt: [String: Date] = [:]
        samples.reserveCapacity(count)
        for k in 0..<count {
            try await Task.sleep(for: .milliseconds(Int.random(in: gapMs)))
            let row = try prepare(k)
            let wall = Date(), started = ContinuousClock.now
            let id = try await enqueue(row)
            startedAt[id] = wall
            let deadline = started + .seconds(timeout)
            while true {
                if let done = try await terminal(id) {
                    let elapsed = ContinuousClock.now - started
                    samples.append(done.latency ?? Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                    if !done.succeeded { notSucceeded += 1 }
                    break
                }
                guard ContinuousClock.now < deadline else { throw BenchError.failed("request \(id) not terminal after \(Int(timeout)) s") }
                try await Task.sleep(for: every)
            }
        }
        return Result(samples: samples.sorted(), notSucceeded: notSucceeded, startedAt: startedAt)
    }
}
