import ControlSocket
import RequestCodec
import Foundation
import Testing
import TestSupport
import WritebackCore

/// Event-driven pick-up (issue 14): with the safety-net poll at 60 s, a row a producer inserts
/// through an independent client (psql, the sqlite3 shell) is written within seconds, so it
/// was the NOTIFY or the inotify watch that woke the daemon; and after PostgreSQL restarts (every
/// connection cut) the listener reconnects and requests still complete.
@Suite("Event-driven pick-up", .serialized)
struct EventPickupTests {
    /// Far longer than any wait below: a request written in time was not picked up by a poll.
    static let safetyNetPollMs = 60_000

    /// `psql`'s INSERT of a signed row: the producer's three columns, nothing else.
    static func insertSQL(_ row: SignedRequest) -> String {
        let payload = String(decoding: row.payload, as: UTF8.self)
        precondition(!payload.contains("$wb$"))
        return "INSERT INTO reset_requests (id, payload, signature) VALUES ('\(row.id)', $wb$\(payload)$wb$, '\(row.signature)')"
    }

    static func waitSucceeded(_ queue: any RequestQueueStore, _ ids: [String], timeout: TimeInterval) async -> Bool {
        await eventually(timeout: timeout, every: .milliseconds(20)) {
            for id in ids where (try? await queue.summary(id: id))?.state != .succeeded { return false }
            return true
        }
    }

    @Test("PostgreSQL: a psql INSERT is written without waiting for the 60 s poll (NOTIFY), status and metrics say notify")
    func postgresNotify() async throws {
        try await withPostgres { pg in
            try await withSlapd { slapd in
                let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: Self.safetyNetPollMs, postgresURL: pg.url))
                defer { setup.cleanup() }
                let daemon = try setup.daemon()
                defer { daemon.stop() }
                #expect(await daemon.waitReady(timeout: 120), "not ready: \(daemon.log)")
                #expect(await eventually(timeout: 20) { (try? daemon.status())?["wakeup"]?.stringValue == "notify" }, "\(daemon.log.suffix(1500))")
                // The start-up claim is behind us: only a wake-up can pick the next row up now.
                try await Task.sleep(for: .seconds(1))
                let queue = try await setup.store()
                var ids: [String] = []
                for user in ["alice", "bob", "carol"] {
                    let row = try setup.resetRow(user: user)
                    let started = Date()
                    try pg.psql(Self.insertSQL(row))
                    #expect(await Self.waitSucceeded(queue, [row.id], timeout: 20), "\(user) not written: \(daemon.log.suffix(1500))")
                    print(String(format: "E2E pick-up (PostgreSQL NOTIFY, poll 60 s): psql INSERT → succeeded in %.0f ms", Date().timeIntervalSince(started) * 1000))
                    ids.append(row.id)
                }
                let metrics = try daemon.control("metrics").result?.stringValue ?? ""
                #expect(metrics.contains("writebackd_wakeup_source{source=\"notify\"} 1"), "\(metrics)")
                #expect(metrics.contains("writebackd_pickup_seconds_count 3"), "\(metrics)")
                #expect(try pg.psql("SELECT count(*) FROM reset_requests WHERE completed_by IS NOT NULL") == "3")
            }
        }
    }

    @Test("PostgreSQL restarted: the listening connection comes back, polling meanwhile, and requests still complete")
    func postgresRestart() async throws {
        try await withPostgres { pg in
            try await withSlapd { slapd in
                let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: Self.safetyNetPollMs, postgresURL: pg.url))
                defer { setup.cleanup() }
                let daemon = try setup.daemon()
                defer { daemon.stop() }
                #expect(await daemon.waitReady(timeout: 120), "not ready: \(daemon.log)")
                #expect(await eventually(timeout: 20) { (try? daemon.status())?["wakeup"]?.stringValue == "notify" })
                let queue = try await setup.store()
                let before = try setup.resetRow(user: "alice")
                try pg.psql(Self.insertSQL(before))
                #expect(await Self.waitSucceeded(queue, [before.id], timeout: 20))

                try pg.restart()
                // Back to notify within the listener's backoff (at most 5 s between attempts).
                let relistened = await eventually(timeout: 40, every: .milliseconds(200)) {
                    (try? daemon.status())?["wakeup"]?.stringValue == "notify" && daemon.log.contains("listening for queue notifications again")
                }
                #expect(relistened, "\(daemon.log.suffix(2000))")
                #expect(daemon.log.contains("cannot listen for queue notifications"), "the outage was not logged")
                var ids: [String] = []
                for user in ["bob", "carol", "dave", "erin", "frank"] {
                    let row = try setup.resetRow(user: user)
                    try pg.psql(Self.insertSQL(row))
                    ids.append(row.id)
                }
                let done = await Self.waitSucceeded(queue, ids, timeout: 30)
                let rows = (try? pg.psql("SELECT state || ' ' || attempts || ' ' || COALESCE(last_error, '-') FROM reset_requests")) ?? "?"
                #expect(done, "after the restart: rows \(rows); status \(String(describing: try? daemon.status())); \(daemon.log.suffix(2000))")
                #expect(daemon.isRunning)
            }
        }
    }

    @Test("SQLite: a row the sqlite3 shell inserts is written without waiting for the 60 s poll (inotify)")
    func sqliteInotify() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: Self.safetyNetPollMs))
            defer { setup.cleanup() }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(timeout: 120), "not ready: \(daemon.log)")
            #expect(try daemon.status()["wakeup"]?.stringValue == "inotify")
            try await Task.sleep(for: .seconds(1))
            let queue = try setup.queue()
            for user in ["alice", "bob", "carol"] {
                let row = try setup.resetRow(user: user)
                let payload = String(decoding: row.payload, as: UTF8.self).replacingOccurrences(of: "'", with: "''")
                let started = Date()
                let r = try ToolRunner.run("/usr/bin/sqlite3", ["-bail", "-cmd", ".timeout 5000", setup.queuePath,
                    "INSERT INTO reset_requests (id, payload, signature) VALUES ('\(row.id)', '\(payload)', '\(row.signature)')"])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(await Self.waitSucceeded(queue, [row.id], timeout: 20), "\(user) not written: \(daemon.log.suffix(1500))")
                print(String(format: "E2E pick-up (SQLite inotify, poll 60 s): sqlite3 INSERT → succeeded in %.0f ms", Date().timeIntervalSince(started) * 1000))
            }
            let metrics = try daemon.control("metrics").result?.stringValue ?? ""
            #expect(metrics.contains("writebackd_wakeup_source{source=\"inotify\"} 1"), "\(metrics)")
            #expect(metrics.contains("writebackd_pickup_seconds_count 3"), "\(metrics)")
            // Each written request's way from claimed to terminal, step by step.
            for step in ["verify", "replay", "lookup", "rules", "intent", "write", "record", "complete"] {
                #expect(metrics.contains("writebackd_pipeline_seconds_count{step=\"\(step)\"} 3"), "\(step): \(metrics)")
            }
            // And the record step's three parts, each on its own.
            for part in ["state", "outbox", "audit"] {
                #expect(metrics.contains("writebackd_record_seconds_count{part=\"\(part)\"} 3"), "\(part): \(metrics)")
            }
        }
    }
}
