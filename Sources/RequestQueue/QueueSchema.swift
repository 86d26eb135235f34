import GRDB

/// The `reset_requests` table and its migrations. The first three columns belong to the
/// producer (DESIGN.md "Queue"); every other column has a default and belongs to the daemon,
/// so `INSERT INTO reset_requests (id, payload, signature) VALUES (...)` is a complete row.
/// Timestamps are fixed-width UTC RFC 3339 text (see `QueueTime`).
enum QueueSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-reset-requests") { db in
            try db.execute(sql: """
                CREATE TABLE reset_requests (
                    id               TEXT PRIMARY KEY NOT NULL,
                    payload          TEXT NOT NULL,
                    signature        TEXT NOT NULL,
                    state            TEXT NOT NULL DEFAULT 'pending'
                                     CHECK (state IN ('pending','in_progress','succeeded','rejected','failed')),
                    outcome          TEXT,
                    detail           TEXT,
                    completed_at     TEXT,
                    created_at       TEXT NOT NULL DEFAULT (\(QueueTime.sqlNow)),
                    attempts         INTEGER NOT NULL DEFAULT 0,
                    lease_owner      TEXT,
                    lease_expires_at TEXT,
                    not_before       TEXT,
                    intent_recorded  INTEGER NOT NULL DEFAULT 0,
                    intent_stamp     TEXT,
                    last_error       TEXT,
                    updated_at       TEXT NOT NULL DEFAULT (\(QueueTime.sqlNow))
                );
                CREATE INDEX reset_requests_open ON reset_requests (created_at)
                    WHERE state IN ('pending','in_progress');
                CREATE INDEX reset_requests_terminal ON reset_requests (completed_at)
                    WHERE completed_at IS NOT NULL;
                CREATE INDEX reset_requests_state ON reset_requests (state, created_at);
                """)
        }
        // The directory a request was routed to (several [[directory]] entries), for `requests`.
        migrator.registerMigration("v2-directory") { db in
            try db.execute(sql: "ALTER TABLE reset_requests ADD COLUMN directory TEXT")
        }
        // Claims look for open rows with a recorded intent first; without this index that
        // question scanned every pending row at every claim.
        migrator.registerMigration("v3-intent-index") { db in
            try db.execute(sql: """
                CREATE INDEX reset_requests_intent ON reset_requests (created_at)
                    WHERE intent_recorded = 1 AND state IN ('pending','in_progress');
                """)
        }
        // Which daemon recorded the outcome (`requests --owner`, several daemons on one queue).
        migrator.registerMigration("v4-completed-by") { db in
            try db.execute(sql: "ALTER TABLE reset_requests ADD COLUMN completed_by TEXT")
        }
        // The account an intent is for (`recordIntent`'s `userKey`): one open intent per account.
        migrator.registerMigration("v5-user-key") { db in
            try db.execute(sql: """
                ALTER TABLE reset_requests ADD COLUMN user_key TEXT;
                CREATE UNIQUE INDEX reset_requests_user_intent ON reset_requests (user_key)
                    WHERE intent_recorded = 1 AND state IN ('pending','in_progress');
                """)
        }
        return migrator
    }
}

/// The daemon's own state store: replay ids, throttle counters, password history.
/// Times are REAL seconds since 1970 (never read by a producer).
enum StateSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-state") { db in
            try db.execute(sql: """
                CREATE TABLE seen_ids (
                    id         TEXT PRIMARY KEY NOT NULL,
                    expires_at REAL NOT NULL
                );
                CREATE INDEX seen_ids_expiry ON seen_ids (expires_at);
                CREATE TABLE successes (
                    user_dn TEXT NOT NULL,
                    at      REAL NOT NULL
                );
                CREATE INDEX successes_user ON successes (user_dn, at);
                CREATE TABLE history_salts (
                    user_dn TEXT PRIMARY KEY NOT NULL,
                    salt    BLOB NOT NULL
                );
                CREATE TABLE history (
                    user_dn TEXT NOT NULL,
                    seq     INTEGER NOT NULL,
                    hash    BLOB NOT NULL,
                    PRIMARY KEY (user_dn, seq)
                );
                """)
        }
        return migrator
    }
}
