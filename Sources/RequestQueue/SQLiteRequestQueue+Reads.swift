import Foundation
import GRDB
import WritebackCore

/// What `result`, `requests`, `status` and metrics read: summaries without payloads.
extension SQLiteRequestQueue {
    static let summaryColumns = "id, state, outcome, detail, attempts, created_at, completed_at, directory"

    public func summary(id: String) async throws -> RequestSummary? {
        try await reading { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.summaryColumns) FROM reset_requests WHERE id = ?", arguments: [id])
                .map(Self.summary(from:))
        }
    }

    /// Newest first.
    public func list(state: RequestState?, limit: Int) async throws -> [RequestSummary] {
        try await reading { db in
            let rows: [Row]
            if let state {
                rows = try Row.fetchAll(db, sql: """
                    SELECT \(Self.summaryColumns) FROM reset_requests WHERE state = ? ORDER BY created_at DESC, rowid DESC LIMIT ?
                    """, arguments: [state.rawValue, max(0, limit)])
            } else {
                rows = try Row.fetchAll(db, sql: """
                    SELECT \(Self.summaryColumns) FROM reset_requests ORDER BY created_at DESC, rowid DESC LIMIT ?
                    """, arguments: [max(0, limit)])
            }
            return rows.map(Self.summary(from:))
        }
    }

    /// Every state, zero included.
    public func counts() async throws -> [RequestState: Int] {
        try await reading { db in
            var result = Dictionary(uniqueKeysWithValues: RequestState.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM reset_requests GROUP BY state") {
                if let state = RequestState(rawValue: row["state"] ?? "") { result[state] = row["n"] }
            }
            return result
        }
    }

    public func oldestPending(now: Date) async throws -> TimeInterval? {
        try await reading { db in
            let oldest = try String.fetchOne(db, sql: "SELECT MIN(created_at) FROM reset_requests WHERE state = 'pending'")
            return QueueTime.parse(oldest).map { max(0, now.timeIntervalSince($0)) }
        }
    }

    /// Whether a row has its intent recorded (tests, `doctor`).
    public func intentRecorded(id: String) async throws -> Bool {
        try await reading { db in
            (try Int.fetchOne(db, sql: "SELECT intent_recorded FROM reset_requests WHERE id = ?", arguments: [id]) ?? 0) != 0
        }
    }

    /// Migration identifiers this build knows, oldest first (`doctor`).
    public static var schemaMigrations: [String] { QueueSchema.migrator.migrations }

    /// Migration identifiers applied to this file (`doctor`: schema version).
    public func appliedMigrations() async throws -> [String] {
        try await reading { db in try QueueSchema.migrator.appliedMigrations(db) }
    }

    func reading<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch { throw SQLiteFiles.storage(path, error) }
    }

    static func summary(from row: Row) -> RequestSummary {
        RequestSummary(
            id: row["id"], state: RequestState(rawValue: row["state"] ?? "") ?? .pending,
            outcome: row["outcome"], detail: row["detail"], attempts: row["attempts"] ?? 0,
            createdAt: QueueTime.parse(row["created_at"]) ?? Date(timeIntervalSince1970: 0),
            completedAt: QueueTime.parse(row["completed_at"]), directory: row["directory"])
    }
}
