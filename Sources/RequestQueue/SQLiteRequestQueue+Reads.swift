import Foundation
import GRDB
import WritebackCore

/// What `result`, `requests`, `status` and metrics read: summaries without payloads.
extension SQLiteRequestQueue {
    static let summaryColumns = "id, state, outcome, detail, attempts, created_at, completed_at, directory, COALESCE(lease_owner, completed_by) AS owner"

    public func summary(id: String) async throws -> RequestSummary? {
        try await reading { db in
            try db.cachedRow(sql: "SELECT \(Self.summaryColumns) FROM reset_requests WHERE id = ?", arguments: [id])
                .map(Self.summary(from:))
        }
    }

    /// Newest first; `owner` is a prefix of the holding (or recording) daemon's owner name.
    public func list(state: RequestState?, owner: String?, limit: Int) async throws -> [RequestSummary] {
        try await reading { db in
            // Plain comparisons with bound values (no LIKE, so an owner needs no escaping); only
            // the filters asked for, so `state` keeps its index.
            var conditions: [String] = [], arguments: StatementArguments = []
            if let state { conditions.append("state = ?"); arguments += [state.rawValue] }
            if let owner { conditions.append("substr(COALESCE(lease_owner, completed_by, ''), 1, length(?)) = ?"); arguments += [owner, owner] }
            arguments += [max(0, limit)]
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(Self.summaryColumns) FROM reset_requests
                \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                ORDER BY created_at DESC, rowid DESC LIMIT ?
                """, arguments: arguments)
            return rows.map(Self.summary(from:))
        }
    }

    public func holdings(idsPerOwner: Int) async throws -> [LeaseHolding] {
        try await reading { db in
            let rows = try db.cachedRows(sql: """
                SELECT lease_owner, COUNT(*) AS n, MIN(lease_expires_at) AS expiry FROM reset_requests
                WHERE state = 'in_progress' AND lease_owner IS NOT NULL GROUP BY lease_owner ORDER BY lease_owner
                """)
            return try rows.map { row in
                let owner: String = row["lease_owner"]
                let ids = try db.cachedValues(String.self, sql: """
                    SELECT id FROM reset_requests WHERE state = 'in_progress' AND lease_owner = ? ORDER BY created_at, rowid LIMIT ?
                    """, arguments: [owner, max(0, idsPerOwner)])
                return LeaseHolding(owner: owner, count: row["n"], earliestExpiry: QueueTime.parse(row["expiry"]), ids: ids)
            }
        }
    }

    public func nextDue(now: Date) async throws -> Date? {
        let nowText = QueueTime.format(now)
        return try await reading { db in
            let next = try db.cachedValue(String.self, sql: """
                SELECT MIN(t) FROM (
                    SELECT MIN(not_before) AS t FROM reset_requests WHERE state = 'pending' AND not_before > ?1
                    UNION ALL
                    SELECT MIN(lease_expires_at) FROM reset_requests WHERE state = 'in_progress' AND lease_expires_at > ?1)
                """, arguments: [nowText])
            return QueueTime.parse(next)
        }
    }

    /// Every state, zero included.
    public func counts() async throws -> [RequestState: Int] {
        try await reading { db in
            var result = Dictionary(uniqueKeysWithValues: RequestState.allCases.map { ($0, 0) })
            for row in try db.cachedRows(sql: "SELECT state, COUNT(*) AS n FROM reset_requests GROUP BY state") {
                if let state = RequestState(rawValue: row["state"] ?? "") { result[state] = row["n"] }
            }
            return result
        }
    }

    public func oldestPending(now: Date) async throws -> TimeInterval? {
        try await reading { db in
            let oldest = try db.cachedValue(String.self, sql: "SELECT MIN(created_at) FROM reset_requests WHERE state = 'pending'")
            return QueueTime.parse(oldest).map { max(0, now.timeIntervalSince($0)) }
        }
    }

    /// Whether a row has its intent recorded (tests, `doctor`).
    public func intentRecorded(id: String) async throws -> Bool {
        try await reading { db in
            (try db.cachedValue(Int.self, sql: "SELECT intent_recorded FROM reset_requests WHERE id = ?", arguments: [id]) ?? 0) != 0
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
            completedAt: QueueTime.parse(row["completed_at"]), directory: row["directory"], owner: row["owner"])
    }
}
