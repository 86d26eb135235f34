import Foundation
import Logging
import PostgresNIO
import WritebackCore

/// The daemon's own state (DESIGN.md `[state] url`) in PostgreSQL, shared by the daemons of
/// one queue, so a throttle counter, a replay id or a password's history recorded by one
/// daemon binds them all. Give it a database (or at least a role) the portal cannot read:
/// unlike the SQLite file, no file mode protects it.
public final class PostgresStateStore: StateStore {
    let db: PostgresDatabase
    /// Successes older than this are pruned (throttling looks back one hour).
    static let successRetention: TimeInterval = 86_400

    public init(url: String, logger: Logger) async throws {
        db = try PostgresDatabase(url: url, logger: logger)
        try await db.run("migrate", timeout: PostgresDatabase.maintenanceTimeout) { [self] client in try await PostgresSchema.migrate(PostgresSchema.state, client: client, logger: db.logger) }
    }

    public func hasSeen(id: String) async throws -> Bool {
        try await db.run("replay check") { [self] client in
            for try await _ in try await client.query("SELECT 1 FROM seen_ids WHERE id = \(id)", logger: db.logger) { return true }
            return false
        }
    }

    public func markSeen(id: String, until expiresAt: Date) async throws {
        try await db.run("mark seen") { [self] client in
            try await client.query("""
                INSERT INTO seen_ids (id, expires_at) VALUES (\(id), \(expiresAt))
                ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(seen_ids.expires_at, excluded.expires_at)
                """, logger: db.logger)
        }
    }

    public func successCount(userDN: String, since: Date) async throws -> Int {
        try await db.run("throttle count") { [self] client in
            for try await n in try await client.query("SELECT COUNT(*)::bigint FROM successes WHERE user_dn = \(userDN) AND at >= \(since)",
                                                      logger: db.logger).decode(Int.self) { return n }
            return 0
        }
    }

    public func recordSuccess(userDN: String, at: Date) async throws {
        try await db.run("record success") { [self] client in
            try await client.query("INSERT INTO successes (user_dn, at) VALUES (\(userDN), \(at))", logger: db.logger)
        }
    }

    public func history(userDN: String) async throws -> PasswordHistoryRecord? {
        try await db.run("history") { [self] client in
            var salt: Data?
            for try await s in try await client.query("SELECT salt FROM history_salts WHERE user_dn = \(userDN)", logger: db.logger)
                .decode(Data.self) { salt = s }
            guard let salt else { return nil }
            var hashes: [Data] = []
            for try await h in try await client.query("SELECT hash FROM history WHERE user_dn = \(userDN) ORDER BY seq DESC",
                                                      logger: db.logger).decode(Data.self) { hashes.append(h) }
            return PasswordHistoryRecord(salt: salt, hashes: hashes)
        }
    }

    /// A new salt for a user drops the old hashes: they can no longer be compared. The row
    /// lock on the salt serialises two daemons appending for one user.
    public func appendHistory(userDN: String, salt: Data, hash: Data, keep: Int) async throws {
        try await db.run("append history") { [self] client in
            try await client.withTransaction(logger: db.logger) { connection in
                try await connection.query("""
                    INSERT INTO history_salts (user_dn, salt) VALUES (\(userDN), \(salt)) ON CONFLICT (user_dn) DO NOTHING
                    """, logger: db.logger)
                var old: Data?
                for try await s in try await connection.query("SELECT salt FROM history_salts WHERE user_dn = \(userDN) FOR UPDATE",
                                                              logger: db.logger).decode(Data.self) { old = s }
                if old != salt {
                    try await connection.query("DELETE FROM history WHERE user_dn = \(userDN)", logger: db.logger)
                    try await connection.query("UPDATE history_salts SET salt = \(salt) WHERE user_dn = \(userDN)", logger: db.logger)
                }
                try await connection.query("""
                    INSERT INTO history (user_dn, seq, hash)
                    SELECT \(userDN), COALESCE(MAX(seq), 0) + 1, \(hash) FROM history WHERE user_dn = \(userDN)
                    """, logger: db.logger)
                try await connection.query("""
                    DELETE FROM history WHERE user_dn = \(userDN) AND seq NOT IN
                        (SELECT seq FROM history WHERE user_dn = \(userDN) ORDER BY seq DESC LIMIT \(max(0, keep)))
                    """, logger: db.logger)
            }
        }
    }

    public func prune(now: Date) async throws {
        try await db.run("prune", timeout: PostgresDatabase.maintenanceTimeout) { [self] client in
            try await client.query("DELETE FROM seen_ids WHERE expires_at < \(now)", logger: db.logger)
            try await client.query("DELETE FROM successes WHERE at < \(now.addingTimeInterval(-Self.successRetention))", logger: db.logger)
        }
    }

    /// Migration ids this build knows, and those the database has (`doctor`).
    public static var schemaMigrations: [String] { PostgresSchema.state.map(\.id) }
    public func appliedMigrations() async throws -> [String] {
        try await db.run("schema") { [self] client in try await PostgresSchema.applied(client: client, logger: db.logger) }
    }
}
