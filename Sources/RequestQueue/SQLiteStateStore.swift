import Foundation
import GRDB
import WritebackCore

/// The daemon's own durable state (DESIGN.md `[state]`): ids it has finished (replay
/// detection until each request's expiry), successful resets per user (throttling), and per
/// user one salt plus the slow hashes of the last passwords it set (history). Mode 0600,
/// enforced at every open: the portal must never read it.
public final class SQLiteStateStore: StateStore {
    let pool: DatabasePool
    public let path: String
    /// Successes older than this are pruned (throttling looks back one hour).
    static let successRetention: TimeInterval = 86_400

    /// Concurrent workers' finished requests share commits.
    private let commits: GroupCommit

    public init(path: String) throws {
        self.path = path
        pool = try SQLiteFiles.openPool(path: path, mode: 0o600, enforceMode: true, migrator: StateSchema.migrator)
        commits = GroupCommit(pool: pool)
    }

    public func hasSeen(id: String) async throws -> Bool {
        try await reading { db in
            try db.cachedValue(Int.self, sql: "SELECT 1 FROM seen_ids WHERE id = ?", arguments: [id]) != nil
        }
    }

    public func markSeen(id: String, until expiresAt: Date) async throws {
        try await writing { db in try Self.markSeen(db, id: id, until: expiresAt) }
    }

    static func markSeen(_ db: Database, id: String, until expiresAt: Date) throws {
        try db.cachedExecute(sql: """
            INSERT INTO seen_ids (id, expires_at) VALUES (?, ?)
            ON CONFLICT(id) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)
            """, arguments: [id, expiresAt.timeIntervalSince1970])
    }

    /// One savepoint in a group commit for the id, the success and the history entry: one
    /// fsync for several workers' requests, not three per request.
    public func recordFinished(_ record: FinishedRecord) async throws {
        let seen = record.seen.map { SeenID(id: $0.id, until: $0.until) }
        let success = record.success.map { SuccessAt(userDN: $0.userDN, at: $0.at) }
        let history = record.history.map { HistoryEntry(salt: $0.salt, hash: $0.hash, keep: $0.keep) }
        do {
            try await commits.perform { db in
            if let seen { try Self.markSeen(db, id: seen.id, until: seen.until) }
            if let success {
                try Self.recordSuccess(db, userDN: success.userDN, at: success.at)
                if let history { try Self.appendHistory(db, userDN: success.userDN, salt: history.salt, hash: history.hash, keep: history.keep) }
                }
            }
        } catch {
            throw SQLiteFiles.storage(path, error)
        }
    }

    // Sendable copies of FinishedRecord's tuples, for the write closure.
    private struct SeenID: Sendable { var id: String; var until: Date }
    private struct SuccessAt: Sendable { var userDN: String; var at: Date }
    private struct HistoryEntry: Sendable { var salt: Data; var hash: Data; var keep: Int }

    public func successCount(userDN: String, since: Date) async throws -> Int {
        try await reading { db in
            try db.cachedValue(Int.self, sql: "SELECT COUNT(*) FROM successes WHERE user_dn = ? AND at >= ?",
                             arguments: [userDN, since.timeIntervalSince1970]) ?? 0
        }
    }

    public func recordSuccess(userDN: String, at: Date) async throws {
        try await writing { db in try Self.recordSuccess(db, userDN: userDN, at: at) }
    }

    static func recordSuccess(_ db: Database, userDN: String, at: Date) throws {
        try db.cachedExecute(sql: "INSERT INTO successes (user_dn, at) VALUES (?, ?)", arguments: [userDN, at.timeIntervalSince1970])
    }

    public func history(userDN: String) async throws -> PasswordHistoryRecord? {
        try await reading { db in
            guard let salt = try db.cachedValue(Data.self, sql: "SELECT salt FROM history_salts WHERE user_dn = ?", arguments: [userDN])
            else { return nil }
            let hashes = try db.cachedValues(Data.self, sql: "SELECT hash FROM history WHERE user_dn = ? ORDER BY seq DESC", arguments: [userDN])
            return PasswordHistoryRecord(salt: salt, hashes: hashes)
        }
    }

    /// A new salt for a user drops the old hashes: they can no longer be compared.
    public func appendHistory(userDN: String, salt: Data, hash: Data, keep: Int) async throws {
        try await writing { db in try Self.appendHistory(db, userDN: userDN, salt: salt, hash: hash, keep: keep) }
    }

    static func appendHistory(_ db: Database, userDN: String, salt: Data, hash: Data, keep: Int) throws {
        do {
            let old = try db.cachedValue(Data.self, sql: "SELECT salt FROM history_salts WHERE user_dn = ?", arguments: [userDN])
            if old != salt {
                try db.cachedExecute(sql: "DELETE FROM history WHERE user_dn = ?", arguments: [userDN])
                try db.cachedExecute(sql: "INSERT OR REPLACE INTO history_salts (user_dn, salt) VALUES (?, ?)", arguments: [userDN, salt])
            }
            let next = (try db.cachedValue(Int.self, sql: "SELECT MAX(seq) FROM history WHERE user_dn = ?", arguments: [userDN]) ?? 0) + 1
            try db.cachedExecute(sql: "INSERT INTO history (user_dn, seq, hash) VALUES (?, ?, ?)", arguments: [userDN, next, hash])
            try db.cachedExecute(sql: """
                DELETE FROM history WHERE user_dn = ? AND seq NOT IN
                    (SELECT seq FROM history WHERE user_dn = ? ORDER BY seq DESC LIMIT ?)
                """, arguments: [userDN, userDN, max(0, keep)])
        }
    }

    public func prune(now: Date) async throws {
        try await writing { db in
            try db.cachedExecute(sql: "DELETE FROM seen_ids WHERE expires_at < ?", arguments: [now.timeIntervalSince1970])
            try db.cachedExecute(sql: "DELETE FROM successes WHERE at < ?", arguments: [now.timeIntervalSince1970 - Self.successRetention])
        }
    }

    /// Migration identifiers this build knows, oldest first (`doctor`).
    public static var schemaMigrations: [String] { StateSchema.migrator.migrations }

    /// Migration identifiers applied to this file (`doctor`: schema version).
    public func appliedMigrations() async throws -> [String] {
        try await reading { db in try StateSchema.migrator.appliedMigrations(db) }
    }

    /// A short indexed read (one row or one count), run on the calling thread with GRDB's
    /// synchronous read: no hop to a reader's queue and back, which cost two thread switches per
    /// read, twice per request. Never called on the cooperative pool for long: each body is one
    /// index probe.
    func reading<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try readHere(body) } catch { throw SQLiteFiles.storage(path, error) }
    }

    /// Not async, so that `pool.read` is GRDB's synchronous read.
    private func readHere<T>(_ body: (Database) throws -> T) throws -> T { try pool.read(body) }

    func writing<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) { result = try body(db); return .commit }
                return result!
            }
        } catch {
            throw SQLiteFiles.storage(path, error)
        }
    }
}
