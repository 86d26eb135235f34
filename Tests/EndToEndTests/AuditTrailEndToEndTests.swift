import Foundation
import RequestCodec
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The audit trail as an administrator and an auditor meet it: the real daemon and slapd
/// write it, `writebackctl keygen --audit`, `audit verify` and `audit show` read it, an edit
/// of a real line is named, and a daemon killed with SIGKILL leaves a trail that still
/// verifies once the next start has repaired it.
@Suite("Audit trail end to end")
struct AuditTrailEndToEndTests {
    @Test("requests are recorded, signed, verified, shown; an edit is named; SIGKILL and a torn tail are repaired")
    func trail() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: 100))
            defer { setup.cleanup() }
            let keygen = try run(ctl: ["keygen", "--audit", "--out", setup.dir + "/audit-keys", "--json"])
            #expect(keygen.status == 0, "\(keygen.stderr)")
            let pub = setup.dir + "/audit-keys/audit-signing.pub"
            var st = stat()
            #expect(stat(setup.dir + "/audit-keys/audit-signing.key", &st) == 0 && st.st_mode & 0o777 == 0o600)
            try setup.writeConfig(.init(pollIntervalMs: 100, auditSigningKey: setup.dir + "/audit-keys/audit-signing.key", auditBatchLines: 2))

            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            let ids = try await setup.enqueueResets(3, users: ["alice", "bob", "carol"])
            // A row whose signature does not verify: recorded, but none of its claims repeated.
            let forged = try setup.resetRow(user: "dave")
            let queue = try setup.queue()
            try await queue.enqueue(id: forged.id, payload: forged.payload, signature: String(repeating: "A", count: 86) + "==")
            #expect(await eventually(timeout: 60) {
                for id in ids + [forged.id] where (try? await queue.summary(id: id))?.state.isTerminal != true { return false }
                return true
            })
            daemon.signal(SIGTERM)
            #expect(await daemon.waitExit(timeout: 20) == 0)

            let verify = try run(ctl: ["audit", "verify", setup.auditPath, "--key", pub, "--strict", "--json"])
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
            #expect(verify.stdout.contains("\"ok\":true"), "\(verify.stdout)")
            let text = try String(contentsOfFile: setup.auditPath, encoding: .utf8)
            #expect(!text.contains("new_password") && !text.contains("\"enc\""), "no sealed field in the trail")
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.last?.contains("\"type\":\"signature\"") == true, "shutdown signs the last lines")
            let forgedLine = try #require(lines.first { $0.contains(forged.id) })
            #expect(forgedLine.contains("\"user\":null") && forgedLine.contains("\"outcome\":\"invalid_request\""), "\(forgedLine)")

            let show = try run(ctl: ["audit", "show", "--config", setup.configPath, "--user", "alice", "--since", "1h", "--json"])
            #expect(show.status == 0, "\(show.stderr)")
            let shown = try StrictJSONParser.parse(Data(show.stdout.trimmingCharacters(in: .whitespacesAndNewlines).utf8))
            guard case .array(let hits) = shown else { Issue.record("not an array: \(show.stdout)"); return }
            #expect(hits.count == 1)
            #expect(hits.first?["outcome"] == .string("succeeded") && hits.first?["initiator"] == .string("admin:e2e"))
            #expect(hits.first?["user_dn"] == .string("uid=alice,\(slapd.baseDN)") || "\(hits)".contains("uid=alice"), "\(hits)")
            let human = try run(ctl: ["audit", "show", "--config", setup.configPath, "--user", "bob"])
            #expect(human.stdout.contains("reset  succeeded") && human.stdout.contains("by admin:e2e"), "\(human.stdout)")

            // An edited copy of the real trail: the changed line is named.
            let bobIndex = try #require(lines.firstIndex { $0.contains("\"user\":\"bob\"") })
            var edited = lines
            edited[bobIndex] = edited[bobIndex].replacingOccurrences(of: "\"user\":\"bob\"", with: "\"user\":\"mallory\"")
            let copy = setup.dir + "/edited.jsonl"
            try (edited.joined(separator: "\n") + "\n").write(toFile: copy, atomically: true, encoding: .utf8)
            let caught = try run(ctl: ["audit", "verify", copy, "--key", pub])
            #expect(caught.status == 1)
            #expect(caught.stdout.contains("edited: \(copy):\(bobIndex + 1)"), "\(caught.stdout)")

            // SIGKILL after more requests, then a torn tail as a write cut short would leave it.
            let second = try setup.daemon(log: "daemon2.log")
            defer { second.stop() }
            #expect(await second.waitReady(), "daemon not ready: \(second.log)")
            let more = try await setup.enqueueResets(3, users: ["erin"])
            #expect(await eventually(timeout: 60) {
                for id in more where (try? await queue.summary(id: id))?.state.isTerminal != true { return false }
                return true
            })
            second.signal(SIGKILL)
            _ = await second.waitExit(timeout: 20)
            let handle = try #require(FileHandle(forWritingAtPath: setup.auditPath))
            handle.seekToEndOfFile()
            handle.write(Data("{\"seq\":".utf8))
            try handle.close()
            let torn = try run(ctl: ["audit", "verify", setup.auditPath, "--key", pub])
            #expect(torn.status == 1 && torn.stdout.contains("torn:"), "\(torn.stdout)")

            let third = try setup.daemon(log: "daemon3.log")
            defer { third.stop() }
            #expect(await third.waitReady(), "daemon not ready: \(third.log)")
            third.signal(SIGTERM)
            #expect(await third.waitExit(timeout: 20) == 0)
            #expect(third.log.contains("torn last line"), "\(third.log.suffix(2000))")
            let repaired = try run(ctl: ["audit", "verify", setup.auditPath, "--key", pub, "--strict"])
            #expect(repaired.status == 0, "\(repaired.stdout)")
            #expect(repaired.stdout.contains("cut off a torn last line of 7 bytes"), "\(repaired.stdout)")
            #expect(text.count < (try String(contentsOfFile: setup.auditPath, encoding: .utf8)).count)
        }
    }
}
