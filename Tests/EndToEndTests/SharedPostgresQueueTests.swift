import Foundation
import Testing
import TestSupport
import WritebackCore

/// Several daemons, one PostgreSQL queue and state store (DESIGN.md "Queue"): two real daemon
/// processes drain the same `reset_requests` against a real slapd, and every request is applied
/// exactly once; the reference producer and `result` work through the same URL.
@Suite("Two daemons sharing a PostgreSQL queue", .serialized)
struct SharedPostgresQueueTests {
    @Test("100 resets drained by two daemons: every row succeeded, each by exactly one daemon")
    func twoDaemonsOneQueue() async throws {
        try await withPostgres { pg in
            try await withSlapd { slapd in
                let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: 100, connections: 2, postgresURL: pg.url))
                defer { setup.cleanup() }
                // The second daemon: the same file with its own control socket and audit trail
                // (each host has its own state directory; one trail has one writer).
                let secondConfig = setup.dir + "/second.toml", secondSocket = setup.dir + "/run/second.sock"
                try String(contentsOfFile: setup.configPath, encoding: .utf8)
                    .replacingOccurrences(of: setup.socketPath, with: secondSocket)
                    .replacingOccurrences(of: setup.auditPath, with: setup.dir + "/second-audit.jsonl")
                    .write(toFile: secondConfig, atomically: true, encoding: .utf8)
                let first = try setup.daemon(log: "first.log")
                defer { first.stop() }
                let second = try DaemonProcess(configPath: secondConfig, socketPath: secondSocket, logPath: setup.dir + "/second.log")
                defer { second.stop() }
                #expect(await first.waitReady(), "first not ready: \(first.log)")
                #expect(await second.waitReady(), "second not ready: \(second.log)")

                let ids = try await setup.enqueueResets(100, users: ["alice", "bob", "carol", "dave", "erin", "frank", "grace"])
                let queue = try await setup.store()
                let drained = await eventually(timeout: 60) { (try? await queue.counts()[.succeeded]) == 100 }
                let counts = try await queue.counts()
                let notSucceeded = try await queue.list(state: nil, owner: nil, limit: 200).filter { $0.outcome != "succeeded" }
                    .map { "\($0.id): \($0.state.rawValue) \($0.outcome ?? "-") \($0.detail ?? "")" }
                #expect(drained, "\(counts) \(notSucceeded) \(first.log.suffix(1500))")
                // Each request's audit line is in exactly one daemon's log.
                let logs = [first.log, second.log]
                var byFirst = 0
                for id in ids {
                    let hits = logs.map { log in log.components(separatedBy: "\n").filter { $0.contains("\"audit\":\"request\"") && $0.contains(id) }.count }
                    #expect(hits.reduce(0, +) == 1, "\(id): \(hits)")
                    byFirst += hits[0]
                }
                print("E2E shared PostgreSQL queue: first daemon \(byFirst), second \(100 - byFirst) of 100")
                // …and in exactly one daemon's audit trail.
                let trails = [setup.auditPath, setup.dir + "/second-audit.jsonl"].map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }
                let trailLines = trails.flatMap { $0.split(separator: "\n") }.filter { $0.contains("\"type\":\"request\"") }
                #expect(trailLines.count == 100 && Set(ids).allSatisfy { id in trailLines.filter { $0.contains(id) }.count == 1 })
                #expect(try pg.psql("SELECT count(*) FROM reset_requests WHERE signature <> '' OR payload NOT LIKE '%redacted%'") == "0")
                #expect(try pg.psql("SELECT count(*) FROM seen_ids") == "100", "replay ids in the shared state store")
            }
        }
    }

    @Test("writebackctl enqueue and result --wait --json through a PostgreSQL queue")
    func referenceProducer() async throws {
        try await withPostgres { pg in
            try await withSlapd { slapd in
                let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: 100, postgresURL: pg.url))
                defer { setup.cleanup() }
                let daemon = try setup.daemon()
                defer { daemon.stop() }
                #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
                let password = E2ESetup.newPassword()
                let enqueue = try InteropEndToEndTests.ctl(["enqueue", "--config", setup.configPath, "--signing-key", setup.dir + "/keys/producer-signing.key",
                                                            "--user", "carol", "--kind", "reset", "--password-stdin", "--initiator", "admin:helpdesk",
                                                            "--licenses", "AAD_PREMIUM"], stdin: password + "\n")
                #expect(enqueue.status == 0, "\(enqueue.err)")
                let id = enqueue.out.trimmingCharacters(in: .whitespacesAndNewlines)
                let result = try InteropEndToEndTests.ctl(["result", id, "--wait", "30", "--json", "--config", setup.configPath])
                let json = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
                #expect(json?["state"] as? String == "succeeded", "\(result.out) \(result.err) \(daemon.log.suffix(1500))")
                #expect(slapd.bind(user: "carol", password: password))
                let doctor = try InteropEndToEndTests.ctl(["doctor", "--config", setup.configPath])
                #expect(doctor.out.contains("✓ queue: \(pg.url): connected"), "\(doctor.out)")
                #expect(doctor.out.contains("✓ state: \(pg.url): connected"), "\(doctor.out)")
            }
        }
    }
}
