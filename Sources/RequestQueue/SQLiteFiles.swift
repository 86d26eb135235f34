import Foundation
import GRDB

/// Opening one SQLite file the way both stores need it: WAL (DatabasePool), full fsync at
/// each commit (the intent record must be durable before a directory write), `secure_delete`
/// so freed pages hold no sealed bytes, a busy timeout for producers and other daemons, and a
/// file mode set before SQLite first writes (the WAL and SHM files inherit it).
enum SQLiteFiles {
    static func configuration(readonly: Bool = false) -> GRDB.Configuration {
        var config = GRDB.Configuration()
        config.busyMode = .timeout(10)
        config.readonly = readonly
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // `synchronous = FULL` is set after the pool is open (requireFullSync): GRDB's WAL
            // set-up would override it here.
        }
        return config
    }

    /// Creates `path` with `mode` if it does not exist; with `enforce`, also narrows an
    /// existing file (and its -wal/-shm) to `mode`.
    static func prepareFile(path: String, mode: mode_t, enforce: Bool) throws(QueueError) {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750]) } catch {
                throw .storage(path: path, reason: "cannot create directory \(dir)")
            }
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .storage(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
        if enforce {
            for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                guard chmod(file, mode) == 0 else { throw .storage(path: file, reason: "chmod: \(String(cString: strerror(errno)))") }
            }
        }
    }

    static func openPool(path: String, mode: mode_t, enforceMode: Bool, migrator: DatabaseMigrator) throws(QueueError) -> DatabasePool {
        try prepareFile(path: path, mode: mode, enforce: enforceMode)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration())
            try requireFullSync(pool, path: path)
            try migrator.migrate(pool)
            return pool
        } catch {
            throw .storage(path: path, reason: "\(error)")
        }
    }

    /// `synchronous = FULL` on the writer, checked. GRDB's pool switches its writer to WAL and
    /// then to `synchronous = NORMAL` after `prepareDatabase` has run, so the pragma set there
    /// did not hold: commits were durable against a killed process but not against power loss
    /// (found in the drain's syscall trace: no fdatasync from SQLite at all). A commit that
    /// returns must be on disk: the intent before its directory write, the outcome before the
    /// portal is told.
    static func requireFullSync(_ pool: DatabasePool, path: String) throws {
        let level = try pool.writeWithoutTransaction { db -> Int in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        }
        guard level == 2 else { throw QueueError.storage(path: path, reason: "PRAGMA synchronous is \(level), not FULL (2)") }
    }

    static func storage(_ path: String, _ error: any Error) -> QueueError {
        if let e = error as? QueueError { return e }
        return .storage(path: path, reason: "\(error)")
    }
}
