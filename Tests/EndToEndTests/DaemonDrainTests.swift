import ControlSocket
import Foundation
import RequestCodec
import RequestQueue
import Testing
import TestSupport
import WritebackCore

/// The daemon drains its queue against a real slapd: a handful end to end (the password really
/// changes), then 1,000 queued requests with every row terminal.
@Suite("Daemon drains the queue", .serialized)
struct DaemonDrainTests {
    @Test("a reset is applied: the user binds with the new password, status shows it")
    func singleReset() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd)
            defer { setup.cleanup() }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")

            let password = E2ESetup.newPassword()
            var b = RequestBuilder(kind: .reset, user: "bob", initiator: .admin(name: "e2e"))
            b.licenses = ["AAD_PREMIUM"]
            let row = try setup.sealer.build(b, newPassword: Secret(password))
            let queue = try setup.queue()
            try await queue.enqueue(id: row.id, payload: row.payload, signature: row.signature)

            let done = await eventually(timeout: 60) { (try? await queue.summary(id: row.id))?.state.isTerminal == true }
            let summary = try await queue.summary(id: row.id)
            #expect(done)
            #expect(summary?.state == .succeeded, "outcome \(String(describing: summary?.outcome)) \(String(describing: summary?.detail)); log: \(daemon.log)")
            #expect(slapd.bind(user: "bob", password: password))

            let status = try daemon.status()
            #expect(status["state"]?.stringValue == "running")
            #expect(status["queue"]?["succeeded"]?.doubleValue == 1)
            #expect(status["last_success_at"]?.stringValue != nil)
            #expect(status["directory"]?.arrayValue?.first?["up"]?.boolValue == true)
            // The audit line names the request, never the password, and says when the directory
            // took the write (to the microsecond).
            #expect(daemon.log.contains(row.id))
            #expect(!daemon.log.contains(password))
            let audit = daemon.log.split(separator: "\n").first { $0.contains("\"audit\":\"request\"") && $0.contains(row.id) } ?? ""
            #expect(audit.range(of: #""written_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z""#, options: .regularExpression) != nil, "\(audit)")
        }
    }

    @Test("a replayed request is answered replayed, before what its lookup finds, and is not written again")
    func replayed() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd)
            defer { setup.cleanup() }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            let queue = try setup.queue()
            // One that succeeds, one for a user who does not exist (its lookup answers "no such
            // user" again on the replay: the replay's answer must come first).
            let rows = try ["bob", "nobody-by-this-name"].map { user in
                var b = RequestBuilder(kind: .reset, user: user, initiator: .admin(name: "e2e"))
                b.licenses = ["AAD_PREMIUM"]
                return try setup.sealer.build(b, newPassword: Secret(E2ESetup.newPassword()))
            }
            func drain() async throws -> [String?] {
                for row in rows { try await queue.enqueue(id: row.id, payload: row.payload, signature: row.signature) }
                #expect(await eventually(timeout: 60) {
                    var all = true
                    for row in rows where (try? await queue.summary(id: row.id))?.state.isTerminal != true { all = false }
                    return all
                })
                var outcomes: [String?] = []
                for row in rows { outcomes.append(try await queue.summary(id: row.id)?.outcome) }
                return outcomes
            }
            #expect(try await drain() == ["succeeded", "not_managed"], "\(daemon.log.suffix(2000))")
            let before = try slapd.valueCounts(base: slapd.baseDN, name: "pwdHistory")["bob"] ?? 0
            // The portal purges the finished rows, then the same signed rows arrive again.
            #expect(try await queue.pruneTerminal(now: Date().addingTimeInterval(400 * 86_400)) == 2)
            #expect(try await drain() == ["replayed", "replayed"], "\(daemon.log.suffix(2000))")
            #expect(try slapd.valueCounts(base: slapd.baseDN, name: "pwdHistory")["bob"] ?? 0 == before)
        }
    }

    @Test("1,000 queued requests drain with every row terminal")
    func thousandDrain() async throws {
        try await withSlapd(benchUsers: 100, dbnosync: true) { slapd in
            let setup = try E2ESetup(slapd: slapd)
            defer { setup.cleanup() }
            let users = (1...100).map { String(format: "bench%05d", $0) }
            let ids = try await setup.enqueueResets(1000, users: users)
            let queue = try setup.queue()
            let start = Date()
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            let drained = await eventually(timeout: 240, every: .milliseconds(250)) {
                let counts = (try? await queue.counts()) ?? [:]
                return (counts[.pending] ?? 0) == 0 && (counts[.inProgress] ?? 0) == 0
            }
            let elapsed = Date().timeIntervalSince(start)
            let counts = try await queue.counts()
            #expect(drained, "counts \(counts)")
            #expect(counts[.succeeded] == 1000, "counts \(counts); log tail: \(daemon.log.suffix(2000))")
            let rows = try await queue.list(state: nil, limit: 2000)
            #expect(rows.count == ids.count)
            #expect(rows.allSatisfy { $0.state.isTerminal })
            print("E2E drain: 1000 requests in \(String(format: "%.1f", elapsed)) s (\(String(format: "%.0f", 1000 / elapsed))/s)")
        }
    }
}
