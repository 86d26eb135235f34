import Foundation
import GRDB
import RequestCodec

/// Read-only questions the bench asks of a queue file while a daemon works on it, answered
/// with single cheap statements (the open count uses the queue's partial index, so polling it
/// does not slow a drain of 100,000 rows), and the per-row facts the fault checks need.
struct QueueProbe: Sendable {
    let pool: DatabasePool

    init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: config)
    }

    /// Rows still `pending` or `in_progress`.
    func openCount() throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reset_requests WHERE state IN ('pending','in_progress')") ?? 0
        }
    }

    /// The latest `completed_at` (the daemon's clock), as a date.
    func lastCompletion() throws -> Date? {
        try pool.read { db in
            try String.fetchOne(db, sql: "SELECT MAX(completed_at) FROM reset_requests").flatMap(RFC3339.parse)
        }
    }

    /// Terminal rows per outcome code.
    func outcomes() throws -> [String: Int] {
        try pool.read { db in
            var out: [String: Int] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT outcome, COUNT(*) AS n FROM reset_requests WHERE outcome IS NOT NULL GROUP BY outcome") {
                out[r["outcome"]] = r["n"]
            }
            return out
        }
    }

    struct RowFacts: Sendable {
        var state: String
        var outcome: String?
        var detail: String?
        var attempts: Int
        var createdAt: Date?
        var completedAt: Date?
        var payload: String
        var signature: String
    }

    /// Every row, by id.
    func rows() throws -> [String: RowFacts] {
        try pool.read { db in
            var out: [String: RowFacts] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, state, outcome, detail, attempts, created_at, completed_at, payload, signature FROM reset_requests") {
                out[r["id"]] = RowFacts(state: r["state"], outcome: r["outcome"], detail: r["detail"], attempts: r["attempts"],
                                        createdAt: (r["created_at"] as String?).flatMap(RFC3339.parse),
                                        completedAt: (r["completed_at"] as String?).flatMap(RFC3339.parse),
                                        payload: r["payload"] ?? "", signature: r["signature"] ?? "")
            }
            return out
        }
    }

    /// One row's state and times (nil: no such row).
    func row(_ id: String) throws -> RowFacts? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT state, outcome, detail, attempts, created_at, completed_at FROM reset_requests WHERE id = ?",
                             arguments: [id]).map { r in
                RowFacts(state: r["state"], outcome: r["outcome"], detail: r["detail"], attempts: r["attempts"],
                         createdAt: (r["created_at"] as String?).flatMap(RFC3339.parse),
                         completedAt: (r["completed_at"] as String?).flatMap(RFC3339.parse), payload: "", signature: "")
            }
        }
    }

    /// Waits (polling every `every`) until no row is open; false after `timeout`.
    func waitDrained(timeout: TimeInterval, every: Duration = .milliseconds(20)) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try openCount() == 0 { return true }
            try await Task.sleep(for: every)
        }
        return try openCount() == 0
    }
}
