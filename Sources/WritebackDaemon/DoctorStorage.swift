import ControlSocket
import Foundation
import Logging
import PostgresQueue
import RequestQueue
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// The storage checks of `writebackctl doctor`: the queue and the state store open read/write
/// (which also brings their schema up to date), the state store is private, the outbox can be
/// written, and the control socket path is usable (a daemon answers, or the daemon can create it).
enum DoctorStorage {
    static func queue(_ config: Configuration) async -> [DoctorCheck] {
        let name = "queue"
        if config.queue.backend == .postgres, let url = config.queue.url {
            do {
                let queue = try await PostgresRequestQueue(url: url, logger: quiet)
                let counts = try await queue.counts()
                let applied = try await queue.appliedMigrations()
                if let check = schemaCheck(name, url, applied: applied, known: PostgresRequestQueue.schemaMigrations + PostgresStateStore.schemaMigrations) { return [check] }
                let summary = RequestState.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: ", ")
                return [.pass(name, "\(url): connected, schema current (\(summary))")]
            } catch {
                return [.fail(name, "\(url): \(error)", fix: postgresFix)]
            }
        }
        guard let path = config.queue.path else { return [.fail(name, "[queue] path is not set", fix: "set [queue] path")] }
        if let missing = notYetCreated(name, path) { return [missing] }
        if let f = writable(name, path, what: "queue") { return [f] }
        do {
            let queue = try SQLiteRequestQueue.openExisting(path: path)
            let counts = try await queue.counts()
            let applied = try await queue.appliedMigrations()
            try await queue.truncateWAL()
            restoreOwnership(path)
            if let check = schemaCheck(name, path, applied: applied, known: SQLiteRequestQueue.schemaMigrations) { return [check] }
            let summary = RequestState.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: ", ")
            return [.pass(name, "\(path): read/write, schema \(applied.last ?? "?") (current; \(summary))")]
        } catch {
            restoreOwnership(path)
            return [.fail(name, "\(path): \(error)", fix: "check the file is a writebackd queue (SQLite) and its directory is writable by the daemon")]
        }
    }

    static func state(_ config: Configuration) async -> [DoctorCheck] {
        let name = "state"
        if let url = config.state.url {
            do {
                let store = try await PostgresStateStore(url: url, logger: quiet)
                _ = try await store.hasSeen(id: "writebackd-doctor-probe")
                let applied = try await store.appliedMigrations()
                if let check = schemaCheck(name, url, applied: applied, known: PostgresRequestQueue.schemaMigrations + PostgresStateStore.schemaMigrations) { return [check] }
                return [.pass(name, "\(url): connected, schema current (keep this database unreadable by the portal's role)")]
            } catch {
                return [.fail(name, "\(url): \(error)", fix: postgresFix)]
            }
        }
        guard let path = config.state.path else { return [.fail(name, "[state] path is not set", fix: "set [state] path or url")] }
        if let missing = notYetCreated(name, path) { return [missing] }
        if let f = writable(name, path, what: "state store") { return [f] }
        if let f = DoctorFiles.privateMode(name, path, what: "state store") {
            return [DoctorCheck.fail(name, f.detail + " (holds password-history hashes)", fix: f.fix ?? "")]
        }
        do {
            let store = try SQLiteStateStore(path: path)
            _ = try await store.hasSeen(id: "writebackd-doctor-probe")
            let applied = try await store.appliedMigrations()
            restoreOwnership(path)
            if let check = schemaCheck(name, path, applied: applied, known: SQLiteStateStore.schemaMigrations) { return [check] }
            return [.pass(name, "\(path): read/write, mode 0600, schema \(applied.last ?? "?") (current)")]
        } catch {
            restoreOwnership(path)
            return [.fail(name, "\(path): \(error)", fix: "check the file is a writebackd state store (SQLite) and its directory is writable by the daemon")]
        }
    }

    static func outbox(_ config: Configuration) -> DoctorCheck {
        let dir = config.outbox.dir
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { return .fail("outbox", "\(dir) is not a directory", fix: "remove it or set [outbox] dir") }
            guard access(dir, W_OK) == 0 else { return .fail("outbox", "\(dir) is not writable", fix: "chown writebackd \(dir)") }
            return .pass("outbox", "\(dir): writable")
        }
        let parent = (dir as NSString).deletingLastPathComponent
        if access(parent, W_OK) == 0 { return .pass("outbox", "\(dir) does not exist yet; the daemon creates it in \(parent)") }
        return .fail("outbox", "neither \(dir) nor a writable \(parent) exists", fix: "mkdir -p \(dir) && chown writebackd \(dir)")
    }

    static func controlSocket(_ config: Configuration) -> DoctorCheck {
        let path = config.control.socket
        let name = "control.socket"
        if FileManager.default.fileExists(atPath: path) {
            do {
                let reply = try ControlClient(path: path, timeoutSeconds: 3).send(ControlRequest(command: "status"))
                var state = "answering"
                if case .object(let o)? = reply.result, case .string(let s)? = o["state"] { state = "answering, state \(s)" }
                return .pass(name, "\(path): writebackd \(state)")
            } catch .notListening {
                return .pass(name, "\(path): a stale socket, nobody listens; writebackd replaces it at start")
            } catch .permissionDenied {
                return .fail(name, "\(path): permission denied", fix: "run doctor as root or as a member of [control] group \"\(config.control.group)\"")
            } catch {
                return .fail(name, "\(path): \(error.description)", fix: "restart writebackd; if it hangs, look at `journalctl -u writebackd`")
            }
        }
        let dir = (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue {
            return access(dir, W_OK) == 0 ? .pass(name, "\(path): daemon not running; \(dir) is writable")
                                          : .fail(name, "\(dir) is not writable", fix: "chown writebackd \(dir), or use RuntimeDirectory=writebackd")
        }
        if dir == "/run/writebackd" {
            return .pass(name, "\(path): daemon not running; systemd creates \(dir) at start (RuntimeDirectory=writebackd)")
        }
        return .fail(name, "\(dir) does not exist", fix: "mkdir -p \(dir) (owned by the daemon's user), or set [control] socket")
    }

    /// What to check when a PostgreSQL store cannot be reached or used.
    static let postgresFix = "check the URL (host, port, database, role), that pg_hba.conf admits this role, PGPASSFILE when the server asks for a password, and that the role may create tables in the database"

    /// The PostgreSQL client's own connection chatter stays out of doctor's output.
    static var quiet: Logger {
        var l = Logger(label: "writebackctl.doctor")
        l.logLevel = .error
        return l
    }

    /// A store migrated by a newer writebackd has migrations this build does not know.
    private static func schemaCheck(_ name: String, _ path: String, applied: [String], known: [String]) -> DoctorCheck? {
        let unknown = applied.filter { !known.contains($0) }
        guard !unknown.isEmpty else { return nil }
        return .fail(name, "\(path) has schema migrations this build does not know (\(unknown.joined(separator: ", "))): it was written by a newer writebackd",
                     fix: "install the newer writebackd (or a copy of this file from before the upgrade)")
    }

    /// A store file that does not exist yet is fine when the daemon can create it.
    private static func notYetCreated(_ name: String, _ path: String) -> DoctorCheck? {
        guard !FileManager.default.fileExists(atPath: path) else { return nil }
        let dir = (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue, access(dir, W_OK) == 0 {
            return .pass(name, "\(path) does not exist yet; the daemon creates it at start (\(dir) is writable)")
        }
        if dir == "/var/lib/writebackd" {
            return .pass(name, "\(path) does not exist yet; systemd creates \(dir) at start (StateDirectory=writebackd)")
        }
        return .fail(name, "\(path) does not exist and \(dir) is not a writable directory", fix: "mkdir -p \(dir) && chown writebackd \(dir)")
    }

    private static func writable(_ name: String, _ path: String, what: String) -> DoctorCheck? {
        guard access(path, R_OK | W_OK) == 0 else {
            return .fail(name, "\(what) \(path) is not readable and writable: \(String(cString: strerror(errno)))", fix: "chown writebackd \(path)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        guard access(dir, W_OK) == 0 else {
            return .fail(name, "\(dir) is not writable (SQLite needs it for the -wal and -shm files)", fix: "chown writebackd \(dir)")
        }
        return nil
    }

    /// Doctor often runs as root: hand any -wal/-shm file it created back to the database's owner.
    private static func restoreOwnership(_ path: String) {
        var st = stat()
        guard getuid() == 0, stat(path, &st) == 0 else { return }
        for file in [path + "-wal", path + "-shm"] {
            var fs = stat()
            if stat(file, &fs) == 0, fs.st_uid != st.st_uid || fs.st_gid != st.st_gid { _ = chown(file, st.st_uid, st.st_gid) }
        }
    }
}
