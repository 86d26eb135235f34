import Foundation
import GRDB
import RequestCodec
import Synchronization
import WritebackCore

/// The embedded queue (DESIGN.md "Queue"): `reset_requests` in one SQLite file, WAL, shared
/// by producers (who only insert) and one or more daemons (who claim with a lease under
/// `BEGIN IMMEDIATE`). Terminal rows are redacted in the transaction that records the
/// outcome, and the WAL is truncated once nothing is open, so no sealed bytes stay on disk.
/// No GRDB type appears in the API: a PostgreSQL store can implement the same protocol.
public final class SQLiteRequestQueue: RequestQueueStore {
    let pool: DatabasePool
    public let path: String
    /// Terminal rows older than this are deleted by `pruneTerminal` (replay ids live on in the
    /// state store until each request's expiry, so pruning never re-enables a request).
    public let retentionDays: Int
    /// Completions between two WAL truncations while the queue is busy.
    static let checkpointEvery = 256
    private let completions = Counter()
    /// Intents, outcomes, releases and lease renewals of concurrent workers share commits.
    private let commits: GroupCommit

    /// Opens (creating and migrating if needed) the queue at `path`. A new file is created
    /// 0660 so a portal in the daemon's group can insert; an existing file keeps its mode.
    public init(path: String, retentionDays: Int = 30) throws {
        self.path = path
        self.retentionDays = retentionDays
        pool = try SQLiteFiles.openPool(path: path, mode: 0o660, enforceMode: false, migrator: QueueSchema.migrator)
        commits = GroupCommit(pool: pool)
    }

    /// Opens a queue file that must exist already (`writebackctl result`): never creates one
    /// at a mistyped path.
    public static func openExisting(path: String) throws -> SQLiteRequestQueue {
        guard FileManager.default.fileExists(atPath: path) else { throw QueueError.fileNotFound(path: path) }
        return try SQLiteRequestQueue(path: path)
    }

    /// Inserts a producer row (the three producer columns only). For `writebackctl enqueue`
    /// and tests; any other producer runs the same INSERT itself.
    public func enqueue(id: String, payload: Data, signature: String) async throws {
        let text = String(decoding: payload, as: UTF8.self)
        do {
            try await pool.write { db in
                try db.cachedExecute(sql: "INSERT INTO reset_requests (id, payload, signature) VALUES (?, ?, ?)",
                               arguments: [id, text, signature])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw QueueError.duplicateID(id)
        } catch {
            throw SQLiteFiles.storage(path, error)
        }
    }

    /// Inserts many producer rows in one transaction (`make bench` pre-queues 100,000 this
    /// way: one commit instead of one fsync per row). All or none: a duplicate id fails it.
    public func enqueue(batch: [SignedRequest]) async throws {
        do {
            try await pool.write { db in
                let statement = try db.makeStatement(sql: "INSERT INTO reset_requests (id, payload, signature) VALUES (?, ?, ?)")
                for row in batch {
                    try statement.execute(arguments: [row.id, String(decoding: row.payload, as: UTF8.self), row.signature])
                }
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw QueueError.duplicateID(batch.first?.id ?? "")
        } catch {
            throw SQLiteFiles.storage(path, error)
        }
    }

    public func claim(limit: Int, owner: String, lease: Duration, now: Date, skippingDirectories: [String]) async throws -> [ClaimedRequest] {
        let nowText = QueueTime.format(now)
        // Busy directories' routed rows stay where they are: one statement text with the
        // filter (the names as a JSON array for json_each, ?3), one without (the usual case).
        let skipJSON: String?
        if skippingDirectories.isEmpty {
            skipJSON = nil
        } else {
            var json = "["
            for (i, name) in skippingDirectories.enumerated() {
                if i > 0 { json += "," }
                JSONStringLiteral.append(name, to: &json)
            }
            skipJSON = json + "]"
        }
        let skip = skipJSON == nil ? "" : "AND (directory IS NULL OR directory NOT IN (SELECT value FROM json_each(?3)))"
        @Sendable func arguments(limit: Int) -> StatementArguments {
            var arguments: StatementArguments = [nowText, limit]
            if let skipJSON { arguments += [skipJSON] }
            return arguments
        }
        // Never held before: the pick-up delay is measured on these only.
        let fresh = "(state = 'pending' AND attempts = 0 AND last_error IS NULL AND intent_recorded = 0) AS fresh"
        let expiry = QueueTime.format(now.addingTimeInterval(lease.timeInterval))
        return try await immediate(durable: false) { db in
            // Rows held by a process of this host that no longer exists (killed daemon) are
            // free now, not only when their lease runs out.
            let holders = try db.cachedValues(String.self, sql: """
                SELECT DISTINCT lease_owner FROM reset_requests
                WHERE state = 'in_progress' AND lease_owner IS NOT NULL AND lease_expires_at > ?
                """, arguments: [nowText])
            for holder in holders where holder != owner && DeadOwner.isDead(holder) {
                try db.cachedExecute(sql: "UPDATE reset_requests SET lease_expires_at = ? WHERE state = 'in_progress' AND lease_owner = ?",
                               arguments: [nowText, holder])
            }
            // Rows whose write may have happened (intent recorded) first: their fate must be
            // decided before any later request for the same user is written. Then the oldest
            // pending rows and rows whose lease ran out. Three indexed queries that stop at
            // `limit`, not one that sorts every open row (a claim from 100,000 pending rows
            // took milliseconds per claim that way, growing with the queue).
            let limit = max(0, limit)
            let columns = "id, payload, signature, attempts, created_at, intent_recorded, intent_stamp, rowid AS rid, \(fresh)"
            // INDEXED BY: left to itself the planner takes the state index and scans every
            // pending row for the rare intent (measured: ~675 page reads per request at 10,000
            // queued, 28 requests/s).
            var rows = try db.cachedRows(sql: """
                SELECT \(columns) FROM reset_requests INDEXED BY reset_requests_intent
                WHERE intent_recorded = 1 AND state IN ('pending','in_progress')
                  AND ((state = 'pending' AND (not_before IS NULL OR not_before <= ?1))
                    OR (state = 'in_progress' AND (lease_expires_at IS NULL OR lease_expires_at <= ?1)))
                  \(skip)
                ORDER BY created_at, rowid LIMIT ?2
                """, arguments: arguments(limit: limit))
            if rows.count < limit {
                let remaining = limit - rows.count
                let taken = Set(rows.map { $0["id"] as String })
                let arguments = arguments(limit: remaining + taken.count)
                let pending = try db.cachedRows(sql: """
                    SELECT \(columns) FROM reset_requests
                    WHERE state = 'pending' AND (not_before IS NULL OR not_before <= ?1) \(skip)
                    ORDER BY created_at, rowid LIMIT ?2
                    """, arguments: arguments)
                let expired = try db.cachedRows(sql: """
                    SELECT \(columns) FROM reset_requests
                    WHERE state = 'in_progress' AND (lease_expires_at IS NULL OR lease_expires_at <= ?1) \(skip)
                    ORDER BY created_at, rowid LIMIT ?2
                    """, arguments: arguments)
                let rest = (pending + expired).filter { !taken.contains($0["id"]) }.sorted {
                    let a: String = $0["created_at"], b: String = $1["created_at"]
                    return a != b ? a < b : ($0["rid"] as Int64) < ($1["rid"] as Int64)
                }
                rows += rest.prefix(remaining)
            }
            var claimed: [ClaimedRequest] = []
            for row in rows {
                let id: String = row["id"]
                try db.cachedExecute(sql: """
                    UPDATE reset_requests SET state = 'in_progress', lease_owner = ?, lease_expires_at = ?, updated_at = ?
                    WHERE id = ?
                    """, arguments: [owner, expiry, nowText, id])
                claimed.append(ClaimedRequest(
                    id: id, payload: Self.bytes(row["payload"]), signature: row["signature"] ?? "",
                    attempts: row["attempts"], createdAt: QueueTime.parse(row["created_at"]) ?? now,
                    intentStamp: row["intent_stamp"], intentRecorded: (row["intent_recorded"] as Int? ?? 0) != 0,
                    firstClaim: (row["fresh"] as Int? ?? 0) != 0))
            }
            return claimed
        }
    }

    public func recordIntent(id: String, owner: String, stamp: String?, userKey: String? = nil) async throws {
        try await grouped { db in
            do {
                try db.cachedExecute(sql: """
                    UPDATE reset_requests SET intent_recorded = 1, intent_stamp = ?, user_key = ?, updated_at = \(QueueTime.sqlNow)
                    WHERE id = ? AND state = 'in_progress' AND lease_owner = ?
                    """, arguments: [stamp, userKey, id, owner])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                throw QueueError.userBusy(id: id)   // reset_requests_user_intent: another row's intent holds the account
            }
            guard db.changesCount == 1 else { throw QueueError.notOwner(id: id) }
        }
    }

    public func complete(id: String, owner: String, outcome: Outcome, directory: String?, now: Date) async throws {
        let nowText = QueueTime.format(now)
        let drained: Bool = try await grouped { db in
            guard let row = try db.cachedRow(sql: """
                SELECT payload FROM reset_requests WHERE id = ? AND state = 'in_progress' AND lease_owner = ?
                """, arguments: [id, owner])
            else { throw QueueError.notOwner(id: id) }
            let redacted = String(decoding: PayloadRedactor.redact(Self.bytes(row["payload"])), as: UTF8.self)
            try db.cachedExecute(sql: """
                UPDATE reset_requests SET state = ?, outcome = ?, detail = ?, completed_at = ?, updated_at = ?,
                    payload = ?, signature = '', lease_owner = NULL, lease_expires_at = NULL, not_before = NULL,
                    directory = COALESCE(?, directory), completed_by = ?
                WHERE id = ?
                """, arguments: [outcome.state.rawValue, outcome.code.rawValue, outcome.detail, nowText, nowText, redacted, directory, owner, id])
            // EXISTS, not COUNT: one index probe, however many rows are still open.
            let open = try db.cachedValue(Bool.self, sql: "SELECT EXISTS (SELECT 1 FROM reset_requests WHERE state IN ('pending','in_progress'))") ?? true
            return !open
        }
        if drained || completions.increment() % Self.checkpointEvery == 0 {
            try? await truncateWAL()
        }
    }

    public func release(id: String, owner: String, notBefore: Date, countAttempt: Bool, lastError: String?, directory: String?,
                        withdrawingIntent: Bool) async throws {
        try await grouped { db in
            try db.cachedExecute(sql: """
                UPDATE reset_requests SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                    not_before = ?, attempts = attempts + ?, last_error = COALESCE(?, last_error),
                    directory = COALESCE(?, directory), updated_at = \(QueueTime.sqlNow),
                    intent_recorded = CASE WHEN ? THEN 0 ELSE intent_recorded END,
                    intent_stamp = CASE WHEN ? THEN NULL ELSE intent_stamp END,
                    user_key = CASE WHEN ? THEN NULL ELSE user_key END
                WHERE id = ? AND state = 'in_progress' AND lease_owner = ?
                """, arguments: [QueueTime.format(notBefore), countAttempt ? 1 : 0, lastError, directory, withdrawingIntent, withdrawingIntent,
                                 withdrawingIntent, id, owner])
            guard db.changesCount == 1 else { throw QueueError.notOwner(id: id) }
        }
    }

    public func releaseAll(owner: String) async throws {
        try await immediate { db in
            try db.cachedExecute(sql: """
                UPDATE reset_requests SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                    last_error = COALESCE(last_error, ?), updated_at = \(QueueTime.sqlNow)
                WHERE state = 'in_progress' AND lease_owner = ?
                """, arguments: [ReleaseReason.shutdown(owner: owner), owner])
        }
    }

    /// Extends the lease of a row `owner` still holds (a long directory outage, a slow write).
    public func renewLease(id: String, owner: String, lease: Duration, now: Date) async throws {
        try await grouped { db in
            try db.cachedExecute(sql: """
                UPDATE reset_requests SET lease_expires_at = ? WHERE id = ? AND state = 'in_progress' AND lease_owner = ?
                """, arguments: [QueueTime.format(now.addingTimeInterval(lease.timeInterval)), id, owner])
            guard db.changesCount == 1 else { throw QueueError.notOwner(id: id) }
        }
    }

    /// Deletes terminal rows completed more than `retentionDays` before `now`; returns how many.
    @discardableResult
    public func pruneTerminal(now: Date) async throws -> Int {
        let cutoff = QueueTime.format(now.addingTimeInterval(-Double(retentionDays) * 86_400))
        return try await immediate { db in
            try db.cachedExecute(sql: """
                DELETE FROM reset_requests
                WHERE state IN ('succeeded','rejected','failed') AND completed_at IS NOT NULL AND completed_at < ?
                """, arguments: [cutoff])
            return db.changesCount
        }
    }

    /// Copies the WAL into the main file and truncates it to zero bytes, so page images of
    /// rows written before their redaction are gone from disk. Fails quietly when a reader in
    /// another process holds the WAL; the next call catches up.
    public func truncateWAL() async throws {
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// `PRAGMA data_version` on the writer connection: it moves when another connection (a
    /// producer, another daemon) commits, never for this daemon's own writes, which all go
    /// through that connection. Synchronous: called from the queue watcher's own thread.
    func dataVersion() throws -> Int {
        try pool.writeWithoutTransaction { db in try db.cachedValue(Int.self, sql: "PRAGMA data_version") ?? 0 }
    }

    /// Runs `body` in the next group commit (its own savepoint) and maps errors to `QueueError`.
    func grouped<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await commits.perform(body)
        } catch {
            throw SQLiteFiles.storage(path, error)
        }
    }

    /// Runs `body` in `BEGIN IMMEDIATE … COMMIT` and maps errors to `QueueError`.
    /// `durable: false` commits without waiting for the disk (`synchronous = NORMAL` for this
    /// one transaction, FULL again after it). Only for a claim: a claim lost to a power cut
    /// leaves its rows pending, which is where they were, and every later commit on the writer
    /// (an intent, an outcome) syncs the WAL up to and including it. A claim per free worker
    /// was one fdatasync per request or two in a drain.
    func immediate<T: Sendable>(durable: Bool = true, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                if !durable { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
                let outcome = Result { () throws -> T in
                    var result: T?
                    try db.inTransaction(.immediate) {
                        result = try body(db)
                        return .commit
                    }
                    return result!
                }
                if !durable { try db.execute(sql: "PRAGMA synchronous = FULL") }   // committed or not
                return try outcome.get()
            }
        } catch {
            throw SQLiteFiles.storage(path, error)
        }
    }

    /// A payload column as bytes, whether the producer stored TEXT or BLOB.
    static func bytes(_ value: DatabaseValue) -> Data {
        switch value.storage {
        case .blob(let data): data
        case .string(let s): Data(s.utf8)
        default: Data()
        }
    }
}

/// A tiny lock-protected counter (checkpoint pacing). Sendable through `Mutex`.
final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}
