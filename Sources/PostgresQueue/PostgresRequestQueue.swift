import Foundation
import Logging
import PostgresNIO
import RequestCodec
import RequestQueue
import WritebackCore

/// The shared queue (DESIGN.md "Queue"): `reset_requests` in PostgreSQL, for several daemons
/// on several hosts. Rows are claimed in one statement with `FOR UPDATE SKIP LOCKED`, so two
/// daemons never claim one row and never wait for each other; everything else is the SQLite
/// queue's protocol (leases, intent before the write, redaction in the transaction that records
/// the outcome). Times in the rows are the daemons' clocks, as with SQLite: keep them in NTP sync.
public final class PostgresRequestQueue: RequestQueueStore {
    let db: PostgresDatabase
    public let retentionDays: Int
    /// `[queue] notify_channel`: every INSERT notifies it (a trigger), the daemons listen on it;
    /// "": no notifications, poll only.
    public let notifyChannel: String
    /// When `claim` last looked for rows held by dead daemons of this host.
    private let holderCheck = DeadOwner.CheckSpacing()

    /// Connects and creates or migrates the schema (`migrate: false` for read-only tools).
    public init(url: String, retentionDays: Int = 30, notifyChannel: String = PostgresRequestQueue.defaultNotifyChannel,
                logger: Logger, migrate: Bool = true) async throws {
        db = try PostgresDatabase(url: url, logger: logger)
        self.retentionDays = retentionDays
        self.notifyChannel = NotifyChannel.isValid(notifyChannel) ? notifyChannel : ""
        if migrate {
            try await db.run("migrate", timeout: PostgresDatabase.maintenanceTimeout) { [self] client in
                try await PostgresSchema.migrate(PostgresSchema.queue, client: client, logger: db.logger)
                try await PostgresSchema.ensureNotifyTrigger(channel: self.notifyChannel, client: client, logger: db.logger)
            }
        }
    }

    public static let defaultNotifyChannel = PostgresSchema.defaultChannel

    /// The daemon's wake source on this queue: LISTEN on `notifyChannel`, or polling alone.
    public func wakeSource(logger: Logger) -> any QueueWakeSource {
        notifyChannel.isEmpty ? PollOnlyWakeSource() : PostgresQueueListener(db: db, channel: notifyChannel, logger: logger)
    }

    public func enqueue(id: String, payload: Data, signature: String) async throws {
        let text = String(decoding: payload, as: UTF8.self)
        do {
            try await db.client.query("INSERT INTO reset_requests (id, payload, signature) VALUES (\(id), \(text), \(signature))", logger: db.logger)
        } catch where PostgresStoreError.isUniqueViolation(error) {
            throw QueueError.duplicateID(id)
        } catch {
            throw QueueError.storage(path: db.location.display, reason: "enqueue: \(PostgresStoreError.describe(error))")
        }
    }

    public func claim(limit: Int, owner: String, lease: Duration, now: Date, skippingDirectories: [String]) async throws -> [ClaimedRequest] {
        let expiry = now.addingTimeInterval(lease.timeInterval)
        return try await db.run("claim") { [self] client in
            // Rows held by a process of this host that no longer exists are free now. Looked
            // for at most once a second (`holderCheck`): the claim itself is then one statement,
            // one round trip (measured, `make bench` pickup: the transaction of four cost about
            // 1.2 ms more pick-up).
            if holderCheck.due(now) {
                var holders: [String] = []
                for try await holder in try await client.query("""
                    SELECT DISTINCT lease_owner FROM reset_requests
                    WHERE state = 'in_progress' AND lease_owner IS NOT NULL AND lease_expires_at > \(now)
                    """, logger: db.logger).decode(String.self) { holders.append(holder) }
                for holder in holders where holder != owner && DeadOwner.isDead(holder) {
                    try await client.query("""
                        UPDATE reset_requests SET lease_expires_at = \(now) WHERE state = 'in_progress' AND lease_owner = \(holder)
                        """, logger: db.logger)
                }
            }
            // One statement, prepared (`PostgresStatements`); the directory filter only when
            // a directory is busy (with one directory, never).
            let claim = PostgresStatements.Claim(owner: owner, expiry: expiry, now: now, limit: max(0, limit))
            let rows = skippingDirectories.isEmpty
                ? try await client.execute(claim, logger: db.logger)
                : try await client.execute(PostgresStatements.ClaimSkipping(claim: claim, skipping: skippingDirectories), logger: db.logger)
            var claimed: [(ClaimedRequest, Int64)] = []
            for try await (id, payload, signature, attempts, created, intent, stamp, seq, fresh) in rows {
                claimed.append((ClaimedRequest(id: id, payload: Data(payload.utf8), signature: signature, attempts: attempts,
                                               createdAt: created, intentStamp: stamp, intentRecorded: intent, firstClaim: fresh), seq))
            }
            return claimed.sorted {
                ($0.0.intentRecorded ? 0 : 1, $0.0.createdAt, $0.1) < ($1.0.intentRecorded ? 0 : 1, $1.0.createdAt, $1.1)
            }.map(\.0)
        }
    }

    public func recordIntent(id: String, owner: String, stamp: String?, userKey: String? = nil) async throws {
        try await db.run("record intent") { [self] client in
            var n = 0
            do {
                for try await _ in try await client.execute(
                    PostgresStatements.RecordIntent(stamp: stamp, id: id, owner: owner, userKey: userKey), logger: db.logger) {
                    n += 1
                }
            } catch where PostgresStoreError.isUniqueViolation(error) {
                throw QueueError.userBusy(id: id)   // reset_requests_user_intent: another row's intent holds the account
            }
            guard n == 1 else { throw QueueError.notOwner(id: id) }
        }
    }

    /// Two statements on one connection, no transaction (measured, `make bench` pickup: BEGIN,
    /// SELECT … FOR UPDATE, UPDATE, COMMIT took about 2 ms, each round trip ~0.4 ms): the row's
    /// payload is read, redacted here, and written back by an UPDATE that holds only while the
    /// row is still this owner's and its payload the one read (anything else: `notOwner`, and
    /// the row is decided again after its lease).
    public func complete(id: String, owner: String, outcome: Outcome, directory: String?, now: Date) async throws {
        try await db.run("complete") { [self] client in
            try await client.withConnection { connection in
                var payload: String?
                for try await p in try await connection.execute(PostgresStatements.HeldPayload(id: id, owner: owner), logger: db.logger) {
                    payload = p
                }
                guard let payload else { throw QueueError.notOwner(id: id) }
                let redacted = String(decoding: PayloadRedactor.redact(Data(payload.utf8)), as: UTF8.self)
                var n = 0
                for try await _ in try await connection.execute(PostgresStatements.Complete(
                    state: outcome.state.rawValue, outcome: outcome.code.rawValue, detail: outcome.detail, now: now, redacted: redacted,
                    directory: directory, owner: owner, id: id, payload: payload), logger: db.logger) { n += 1 }
                guard n == 1 else { throw QueueError.notOwner(id: id) }
            }
        }
    }

    public func release(id: String, owner: String, notBefore: Date, countAttempt: Bool, lastError: String?, directory: String?,
                        withdrawingIntent: Bool) async throws {
        try await updateHeld(id: id, "release", """
            UPDATE reset_requests SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, not_before = \(notBefore),
                attempts = attempts + \(countAttempt ? 1 : 0), last_error = COALESCE(\(lastError), last_error),
                directory = COALESCE(\(directory), directory),
                intent_recorded = intent_recorded AND NOT \(withdrawingIntent),
                intent_stamp = CASE WHEN \(withdrawingIntent) THEN NULL ELSE intent_stamp END,
                user_key = CASE WHEN \(withdrawingIntent) THEN NULL ELSE user_key END,
                updated_at = clock_timestamp()
            WHERE id = \(id) AND state = 'in_progress' AND lease_owner = \(owner) RETURNING id
            """)
    }

    public func renewLease(id: String, owner: String, lease: Duration, now: Date) async throws {
        let expiry = now.addingTimeInterval(lease.timeInterval)
        try await updateHeld(id: id, "renew lease", """
            UPDATE reset_requests SET lease_expires_at = \(expiry)
            WHERE id = \(id) AND state = 'in_progress' AND lease_owner = \(owner) RETURNING id
            """)
    }

    /// Gives back every row `owner` holds and, when there were any, notifies the channel, so
    /// the other daemons take them now rather than at their next poll.
    public func releaseAll(owner: String) async throws {
        try await db.run("release all") { [self] client in
            var released = 0
            for try await _ in try await client.query("""
                UPDATE reset_requests SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = clock_timestamp(),
                    last_error = COALESCE(last_error, \(ReleaseReason.shutdown(owner: owner)))
                WHERE state = 'in_progress' AND lease_owner = \(owner) RETURNING id
                """, logger: db.logger) { released += 1 }
            if released > 0, !notifyChannel.isEmpty {
                try await client.query("SELECT pg_notify(\(notifyChannel), '')", logger: db.logger)
            }
        }
    }

    @discardableResult
    public func pruneTerminal(now: Date) async throws -> Int {
        let cutoff = now.addingTimeInterval(-Double(retentionDays) * 86_400)
        return try await db.run("prune", timeout: PostgresDatabase.maintenanceTimeout) { [self] client in
            var n = 0
            for try await _ in try await client.query("""
                DELETE FROM reset_requests
                WHERE state IN ('succeeded','rejected','failed') AND completed_at IS NOT NULL AND completed_at < \(cutoff) RETURNING id
                """, logger: db.logger) { n += 1 }
            return n
        }
    }

    /// Runs an UPDATE … RETURNING on a row this owner must hold; none returned: `notOwner`.
    private func updateHeld(id: String, _ what: String, _ query: PostgresQuery) async throws {
        try await db.run(what) { [self] client in
            var n = 0
            for try await _ in try await client.query(query, logger: db.logger) { n += 1 }
            guard n == 1 else { throw QueueError.notOwner(id: id) }
        }
    }
}
