import Logging
import PostgresNIO
import WritebackCore

/// The tables of the PostgreSQL backend and their migrations, applied by the daemon at start
/// under a transaction-scoped advisory lock, so several daemons starting together migrate once.
/// The producer's columns of `reset_requests` are `id`, `payload`, `signature` (TEXT), as in
/// SQLite; every other column has a default and belongs to the daemon. Times are TIMESTAMPTZ.
enum PostgresSchema {
    struct Migration: Sendable {
        let id: String
        let statements: [PostgresQuery]
    }

    static let queue: [Migration] = [Migration(id: "v1-reset-requests", statements: [
        """
        CREATE TABLE reset_requests (
            id               TEXT PRIMARY KEY,
            payload          TEXT NOT NULL,
            signature        TEXT NOT NULL,
            state            TEXT NOT NULL DEFAULT 'pending'
                             CHECK (state IN ('pending','in_progress','succeeded','rejected','failed')),
            outcome          TEXT,
            detail           TEXT,
            completed_at     TIMESTAMPTZ,
            created_at       TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            attempts         INTEGER NOT NULL DEFAULT 0,
            lease_owner      TEXT,
            lease_expires_at TIMESTAMPTZ,
            not_before       TIMESTAMPTZ,
            intent_recorded  BOOLEAN NOT NULL DEFAULT false,
            intent_stamp     TEXT,
            last_error       TEXT,
            updated_at       TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
            seq              BIGINT GENERATED ALWAYS AS IDENTITY
        )
        """,
        "CREATE INDEX reset_requests_open ON reset_requests (created_at, seq) WHERE state IN ('pending','in_progress')",
        "CREATE INDEX reset_requests_terminal ON reset_requests (completed_at) WHERE completed_at IS NOT NULL",
        "CREATE INDEX reset_requests_state ON reset_requests (state, created_at, seq)",
    ]),
    // The directory a request was routed to (several [[directory]] entries), for `requests`.
    Migration(id: "v2-directory", statements: ["ALTER TABLE reset_requests ADD COLUMN directory TEXT"]),
    // A plain INSERT by the portal wakes every listening daemon: one NOTIFY per statement on the
    // channel named by the trigger's argument (several rows in one INSERT: one notification;
    // NOTIFY also folds identical ones within a transaction). `ensureNotifyTrigger` adds one
    // trigger per other configured channel.
    Migration(id: "v3-notify-trigger", statements: [
        """
        CREATE FUNCTION writebackd_notify_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(TG_ARGV[0], '');
            RETURN NULL;
        END
        $$
        """,
        PostgresQuery(unsafeSQL: """
            CREATE TRIGGER reset_requests_notify AFTER INSERT ON reset_requests
                FOR EACH STATEMENT EXECUTE FUNCTION writebackd_notify_insert('\(defaultChannel)')
            """),
    ]),
    // Which daemon recorded the outcome (`requests --owner`, several daemons on one queue).
    Migration(id: "v3-completed-by", statements: ["ALTER TABLE reset_requests ADD COLUMN completed_by TEXT"]),
    // The account an intent is for (`recordIntent`'s `userKey`): one open intent per account,
    // whichever daemon holds it.
    Migration(id: "v4-user-key", statements: [
        "ALTER TABLE reset_requests ADD COLUMN user_key TEXT",
        """
        CREATE UNIQUE INDEX reset_requests_user_intent ON reset_requests (user_key)
            WHERE intent_recorded AND state IN ('pending','in_progress')
        """,
    ]),
    ]

    /// `[queue] notify_channel`'s default; its trigger is part of the schema.
    static let defaultChannel = "writebackd"

    static let state = [Migration(id: "v1-state", statements: [
        "CREATE TABLE seen_ids (id TEXT PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL)",
        "CREATE INDEX seen_ids_expiry ON seen_ids (expires_at)",
        "CREATE TABLE successes (user_dn TEXT NOT NULL, at TIMESTAMPTZ NOT NULL)",
        "CREATE INDEX successes_user ON successes (user_dn, at)",
        "CREATE TABLE history_salts (user_dn TEXT PRIMARY KEY, salt BYTEA NOT NULL)",
        "CREATE TABLE history (user_dn TEXT NOT NULL, seq INTEGER NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (user_dn, seq))",
    ])]

    /// The advisory lock key of writebackd's migrations ("wbd" in ASCII).
    static let lockKey = 0x776264

    /// Applies the migrations of `list` that the database does not have yet.
    static func migrate(_ list: [Migration], client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS writebackd_migrations (
                    id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())
                """, logger: logger)
            var applied = Set<String>()
            for try await id in try await connection.query("SELECT id FROM writebackd_migrations", logger: logger).decode(String.self) {
                applied.insert(id)
            }
            for migration in list where !applied.contains(migration.id) {
                for statement in migration.statements { try await connection.query(statement, logger: logger) }
                try await connection.query("INSERT INTO writebackd_migrations (id) VALUES (\(migration.id))", logger: logger)
            }
        }
    }

    /// Makes a plain INSERT notify `channel` too, when it is not the default channel (whose
    /// trigger the migration made): one trigger per channel, so daemons configured with
    /// different channels do not take the trigger from each other. `channel` is an identifier
    /// the configuration checked (`[a-z_][a-z0-9_]*`, at most 40 bytes): DDL takes no binds.
    static func ensureNotifyTrigger(channel: String, client: PostgresClient, logger: Logger) async throws {
        guard channel != defaultChannel, NotifyChannel.isValid(channel) else { return }
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: """
                CREATE OR REPLACE TRIGGER "reset_requests_notify_\(channel)" AFTER INSERT ON reset_requests
                    FOR EACH STATEMENT EXECUTE FUNCTION writebackd_notify_insert('\(channel)')
                """), logger: logger)
        }
    }

    /// Migration ids applied to the database (`doctor`).
    static func applied(client: PostgresClient, logger: Logger) async throws -> [String] {
        var ids: [String] = []
        let exists = try await client.query("SELECT to_regclass('writebackd_migrations') IS NOT NULL", logger: logger).decode(Bool.self)
        for try await present in exists where !present { return [] }
        for try await id in try await client.query("SELECT id FROM writebackd_migrations ORDER BY applied_at", logger: logger).decode(String.self) {
            ids.append(id)
        }
        return ids
    }
}
