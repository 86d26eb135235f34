import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server for one test suite, started by `scripts/testenv/postgres.sh`
/// in a fresh temporary directory on a free loopback port (trust authentication for the socket
/// and 127.0.0.1 only, database `writeback`, role `writebackd`, fsync off). Use
/// `withPostgres { }`, which stops it by PID also when the body throws; a crashed test process
/// is covered by the script's watchdog.
public struct PostgresServer: Sendable {
    public let facts: [String: String]
    public let dir: String

    /// `postgres://writebackd@127.0.0.1:PORT/writeback`.
    public var url: String { facts["URL"]! }
    public var port: Int { Int(facts["PORT"]!)! }
    public var pid: pid_t { pid_t(facts["PID"]!)! }

    public static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/testenv/postgres.sh").path
    }

    public static func start() throws -> PostgresServer {
        let dir = try Slapd.makeTempDir(prefix: "postgres")
        let r = try ToolRunner.run("/bin/bash", [script, "start", dir, "--watch-pid", String(getpid())])
        guard r.status == 0 else { throw SlapdHarnessError.startFailed("postgres.sh exited \(r.status): \(r.stderr)") }
        let facts = SambaDC.parseFacts(r.stdout)
        guard facts["URL"] != nil, facts["PID"] != nil else { throw SlapdHarnessError.startFailed("no facts: \(r.stdout)") }
        return PostgresServer(facts: facts, dir: dir)
    }

    /// Stops the server with a fast shutdown (every client connection is cut, as in a real
    /// restart) and starts it again on the same port and data; returns the new postmaster PID.
    @discardableResult
    public func restart() throws -> pid_t {
        let r = try ToolRunner.run("/bin/bash", [Self.script, "restart", dir])
        guard r.status == 0, let pid = SambaDC.parseFacts(r.stdout)["PID"].flatMap({ pid_t($0) }) else {
            throw SlapdHarnessError.startFailed("postgres.sh restart exited \(r.status): \(r.stderr)")
        }
        return pid
    }

    public func stop() {
        _ = try? ToolRunner.run("/bin/bash", [Self.script, "stop", dir])
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs SQL with `psql` (an independent client), returns its unaligned, tuples-only output.
    @discardableResult
    public func psql(_ sql: String) throws -> String {
        let r = try ToolRunner.run("/usr/bin/psql", [url, "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql])
        guard r.status == 0 else { throw SlapdHarnessError.commandFailed("psql: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Starts a PostgreSQL server for `body` (off the cooperative pool) and stops it afterwards.
public func withPostgres<T>(isolation: isolated (any Actor)? = #isolation,
                            _ body: (PostgresServer) async throws -> T) async throws -> T {
    let server = try await offPool("postgres-start") { try PostgresServer.start() }
    defer { server.stop() }
    return try await body(server)
}
