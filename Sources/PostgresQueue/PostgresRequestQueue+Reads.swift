import Foundation
import PostgresNIO
import WritebackCore

/// What `result`, `requests`, `status` and metrics read: summaries without payloads.
extension PostgresRequestQueue {
    private typealias SummaryRow = (String, String, String?, String?, Int, Date, Date?, String?)

    private static func summary(_ r: SummaryRow) -> RequestSummary {
        RequestSummary(id: r.0, state: RequestState(rawValue: r.1) ?? .pending, outcome: r.2, detail: r.3,
                       attempts: r.4, createdAt: r.5, completedAt: r.6, directory: r.7)
    }

    public func summary(id: String) async throws -> RequestSummary? {
        try await db.run("summary") { client in
            var found: RequestSummary?
            for try await row in try await client.query("""
                SELECT id, state, outcome, detail, attempts, created_at, completed_at, directory FROM reset_requests WHERE id = \(id)
                """, logger: db.logger).decode(SummaryRow.self) { found = Self.summary(row) }
            return found
        }
    }

    /// Newest first.
    public func list(state: RequestState?, limit: Int) async throws -> [RequestSummary] {
        try await db.run("list") { client in
            let rows = try await client.query("""
                SELECT id, state, outcome, detail, attempts, created_at, completed_at, directory FROM reset_requests
                WHERE \(state?.rawValue)::text IS NULL OR state = \(state?.rawValue)
                ORDER BY created_at DESC, seq DESC LIMIT \(max(0, limit))
                """, logger: db.logger)
            var out: [RequestSummary] = []
            for try await row in rows.decode(SummaryRow.self) { out.append(Self.summary(row)) }
            return out
        }
    }

    /// Every state, zero included.
    public func counts() async throws -> [RequestState: Int] {
        try await db.run("counts") { client in
            var result = Dictionary(uniqueKeysWithValues: RequestState.allCases.map { ($0, 0) })
            for try await (state, n) in try await client.query("SELECT state, COUNT(*)::bigint FROM reset_requests GROUP BY state",
                                                               logger: db.logger).decode((String, Int).self) {
                if let s = RequestState(rawValue: state) { result[s] = n }
            }
            return result
        }
    }

    public func oldestPending(now: Date) async throws -> TimeInterval? {
        try await db.run("oldest pending") { client in
            var oldest: Date?
            for try await d in try await client.query("SELECT MIN(created_at) FROM reset_requests WHERE state = 'pending'",
                                                      logger: db.logger).decode(Date?.self) { oldest = d }
            return oldest.map { max(0, now.timeIntervalSince($0)) }
        }
    }

    /// Migration ids this build knows, and those the database has (`doctor`).
    public static var schemaMigrations: [String] { PostgresSchema.queue.map(\.id) }
    public func appliedMigrations() async throws -> [String] {
        try await db.run("schema") { client in try await PostgresSchema.applied(client: client, logger: db.logger) }
    }
}
