import Foundation
import WritebackCore

/// Enqueue→written latency for requests that arrive one at a time, at random moments (so a
/// polling daemon's poll phase is sampled uniformly): each request is inserted, the next only
/// after the previous one is terminal plus a random gap. A request's latency is its row's
/// `completed_at − created_at`: both stamped in the queue file (the insert's column default
/// and the daemon's completion), so the bench's own polling does not add to it.
///
/// Reusable on purpose: any daemon configuration (polling, inotify, LISTEN/NOTIFY) can be
/// measured by starting that daemon on `probe`'s queue and passing an `enqueue` that inserts
/// request `k` and returns its id; `make bench` uses it for the default configuration.
enum ArrivalLatency {
    struct Result: Sendable {
        var samples: [Double]
        var p50: Double { Self.percentile(samples, 0.50) }
        var p99: Double { Self.percentile(samples, 0.99) }
        var max: Double { samples.max() ?? 0 }
        var mean: Double { samples.isEmpty ? 0 : samples.reduce(0, +) / Double(samples.count) }
        /// Terminal rows whose outcome was not `succeeded`.
        var notSucceeded: Int

        static func percentile(_ values: [Double], _ q: Double) -> Double {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.down)))]
        }
    }

    /// Measures `count` requests; `maxGap` bounds the random pause between two (default: one
    /// default poll interval). Throws when a request is not terminal within `timeout` seconds.
    static func measure(count: Int, maxGap: Duration = .milliseconds(500), timeout: TimeInterval = 60,
                        probe: QueueProbe, enqueue: (Int) async throws -> String) async throws -> Result {
        var samples: [Double] = []
        var notSucceeded = 0
        samples.reserveCapacity(count)
        for k in 0..<count {
            let gapMs = Int.random(in: 0...max(0, Int(maxGap.timeInterval * 1000)))
            try await Task.sleep(for: .milliseconds(gapMs))
            let id = try await enqueue(k)
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                if let row = try probe.row(id), let done = row.completedAt, let created = row.createdAt {
                    samples.append(done.timeIntervalSince(created))
                    if row.outcome != "succeeded" { notSucceeded += 1 }
                    break
                }
                guard Date() < deadline else { throw BenchError.failed("request \(id) not terminal after \(Int(timeout)) s") }
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        return Result(samples: samples, notSucceeded: notSucceeded)
    }
}
