import Foundation
import PostgresNIO

/// The statements on a request's way from the queue to its write, prepared once per
/// connection: the server then parses them once and, after a few runs, plans them once. It
/// exists because planning the claim took 0.15–0.25 ms of PostgreSQL's time on every run
/// (`EXPLAIN ANALYZE`, steady state), and pick-up waits for it.
enum PostgresStatements {
    /// Claims up to `limit` rows for `owner` in one statement: rows whose write may have
    /// happened (intent recorded) first, then the oldest. The SKIP LOCKED subquery and the
    /// UPDATE are one atomic step even without BEGIN. `fresh`: never held before (the pick-up
    /// delay's rows). With `skippingDirectories`, rows routed to one of them stay.
    static func claimSQL(skippingDirectories: Bool) -> String {
        """
        UPDATE reset_requests r SET state = 'in_progress', lease_owner = $1, lease_expires_at = $2,
            updated_at = clock_timestamp()
        FROM (SELECT id, (state = 'pending' AND attempts = 0 AND last_error IS NULL AND NOT intent_recorded) AS fresh
              FROM reset_requests
              WHERE ((state = 'pending' AND (not_before IS NULL OR not_before <= $3))
                 OR (state = 'in_progress' AND (lease_expires_at IS NULL OR lease_expires_at <= $3)))
                \(skippingDirectories ? "AND (directory IS NULL OR directory <> ALL($5))" : "")
              ORDER BY intent_recorded DESC, created_at, seq
              LIMIT $4
              FOR UPDATE SKIP LOCKED) c
        WHERE r.id = c.id
        RETURNING r.id, r.payload, r.signature, r.attempts, r.created_at, r.intent_recorded, r.intent_stamp, r.seq, c.fresh
        """
    }

    typealias ClaimedRow = (String, String, String, Int, Date, Bool, String?, Int64, Bool)

    /// The claim with one directory, or when no directory is busy.
    struct Claim: PostgresPreparedStatement {
        static let sql = claimSQL(skippingDirectories: false)
        typealias Row = ClaimedRow
        let owner: String, expiry: Date, now: Date, limit: Int

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 4)
            b.append(owner); b.append(expiry); b.append(now); b.append(limit)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The claim that leaves busy directories' rows in the queue.
    struct ClaimSkipping: PostgresPreparedStatement {
        static let sql = claimSQL(skippingDirectories: true)
        typealias Row = ClaimedRow
        let claim: Claim, skipping: [String]

        func makeBindings() throws -> PostgresBindings {
            var b = try claim.makeBindings()
            b.append(skipping)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// Records that a write may follow (with the directory's stamp from before it), while the
    /// row is still `owner`'s.
    struct RecordIntent: PostgresPreparedStatement {
        static let sql = """
            UPDATE reset_requests SET intent_recorded = true, intent_stamp = $1, user_key = $4, updated_at = clock_timestamp()
            WHERE id = $2 AND state = 'in_progress' AND lease_owner = $3 RETURNING id
            """
        typealias Row = String
        let stamp: String?, id: String, owner: String, userKey: String?

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 4)
            b.append(stamp); b.append(id); b.append(owner); b.append(userKey)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }

    /// A held row's payload, read to be redacted (`complete`'s first half).
    struct HeldPayload: PostgresPreparedStatement {
        static let sql = "SELECT payload FROM reset_requests WHERE id = $1 AND state = 'in_progress' AND lease_owner = $2"
        typealias Row = String
        let id: String, owner: String

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 2)
            b.append(id); b.append(owner)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }

    /// Records the outcome and the redacted payload, only while the row is still `owner`'s and
    /// its payload the one read (`complete`'s second half).
    struct Complete: PostgresPreparedStatement {
        static let sql = """
            UPDATE reset_requests SET state = $1, outcome = $2, detail = $3, completed_at = $4, updated_at = $4,
                payload = $5, signature = '', lease_owner = NULL, lease_expires_at = NULL, not_before = NULL,
                directory = COALESCE($6, directory), completed_by = $7
            WHERE id = $8 AND state = 'in_progress' AND lease_owner = $7 AND payload = $9
            RETURNING id
            """
        typealias Row = String
        let state: String, outcome: String, detail: String?, now: Date, redacted: String, directory: String?
        let owner: String, id: String, payload: String

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 9)
            b.append(state); b.append(outcome); b.append(detail); b.append(now); b.append(redacted)
            b.append(directory); b.append(owner); b.append(id); b.append(payload)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }
}
