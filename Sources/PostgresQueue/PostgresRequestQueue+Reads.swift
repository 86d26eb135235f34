import Foundation
import PostgresNIO
import WritebackCore

/// What `result`, `requests`, `status` and metrics read: summaries without payloads.
extension PostgresRequestQueue {
    private typealias SummaryRow = (String, String, String?, String?, Int, Date, Date?, String?, String?)

    private static func summary(_ r: SummaryRow) -> RequestSummary {
        RequestSummary(id: r.0, state: RequestState(rawValue: r.1) ?? .pending, outcome: r.2, detail: r.3,
                       attempts: r.4, createdAt: r.5, completedAt: r.6, directory: r.7, owner: r.8)
    }

    public func summary(id: String) async throws -> RequestSummary? {
        try await db.run("summary") { [self] client in
            var found: RequestSummary?
            for try await row in try await client.query("""
                SELECT id, state, outcome, detail, attempts, created_at, completed_at, directory, COALESCE(lease_owner, completed_by)
                FROM reset_requests WHERE id = \(id)
                """, logger: db.logger).decode(SummaryRow.self) { found = Self.summary(row) }
            return found
        }
    }

    /// Newest first; `owner` is a prefix of the holding (or recording) daemon's owner name.
    public func list(state: RequestState?, owner: String?, limit: Int) async throws -> [RequestSummary] {
        try await db.run("list") { [self] client in
            // `starts_with` on a bound value: no LIKE, so an owner needs no escaping.
            let rows = try await client.query("""
                SELECT id, state, outcome, detail, attempts, created_at, completed_at, directory, COALESCE(lease_owner, completed_by)
                FROM reset_requests
                WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
                  AND (\(owner)::text IS NULL OR starts_with(COALESCE(lease_owner, completed_by, ''), \(owner)))
                ORDER BY created_at DESC, seq DESC LIMIT \(max(0, limit))
                """, logger: db.logger)
            var out: [RequestSummary] = []
            for try await row in rows.decode(SummaryRow.self) { out.append(Self.summary(row)) }
            return out
        }
    }

    public func holdings(idsPerOwner: Int) async throws -> [LeaseHolding] {
        try await db.run("holdings") { [self] client in
            var out: [LeaseHolding] = []
            for try await (owner, n, expiry, ids) in try await client.query("""
                SELECT lease_owner, COUNT(*)::bigint, MIN(lease_expires_at),
                       (array_agg(id ORDER BY created_at, seq))[1:\(max(0, idsPerOwner))]
                FROM reset_requests WHERE state = 'in_progress' AND lease_owner IS NOT NULL
                GROUP BY lease_owner ORDER BY lease_owner
                """, logger: db.logger).decode((String, Int, Date?, [String]).self) {
                out.append(LeaseHolding(owner: owner, count: n, earliestExpiry: expiry, ids: ids))
            }
            return out
        }
    }

    public func nextDue(now: Date) async throws -> Date? {
        try await db.run("next due") { [self] client in
            var next: Date?
            for try await d in try await client.query("""
                SELECT LEAST((SELECT MIN(not_before) FROM reset_requests WHERE state = 'pending' AND not_before > \(now)),
                             (SELECT MIN(lease_expires_at) FROM reset_requests WHERE state = 'in_progress' AND lease_expires_at > \(now)))
                """, logger: db.logger).decode(Date?.self) { next = d }
            return next
        }
    }

    /// Every state, zero included.
    public func counts() async throws -> [RequestState: Int] {
        try await db.run("counts") { [self] client in
            var result = Dictionary(uniqueKeysWithValues: RequestState.allCases.map { ($0, 0) })
            for try await (state, n) in try await client.query("SELECT state, COUNT(*)::bigint FROM reset_requests GROUP BY state",
                                                               logger: db.logger).decode((String, Int).self) {
                if let s = RequestState(rawValue: state) { result[s] = n }
            }
            return result
        }
    }

    public func oldestPending(now: Date) async throws -> TimeInterval? {
        try await db.run("oldest pending") { [self] client in
            var oldest: Date?
            for try await d in try await client.query("SELECT MIN(created_at) FROM reset_requests WHERE state = 'pending'",
                                                      logger: db.logger).decode(Date?.self) { oldest = d }
            return oldest.map { max(0, now.timeIntervalSince($0)) }
        }
    }

    /// Migration ids this build knows, and those the database has (`doctor`).
    public static var schemaMigrations: [String] { PostgresSchema.queue.map(\.id) }
    public func appliedMigrations() async throws -> [String] {
        try await db.run("schema") { [self] client in try await PostgresSchema.applied(client: client, logger: db.logger) }
    }
}
