import Foundation
import Testing
import WritebackCore
@testable import Outbox
import Logging

@Suite("Outbox writer: atomic, durable, exactly once")
struct OutboxWriterTests {
    let logger = Logger(label: "test")

    @Test("calling twice writes each message once and one journal line per message")
    func idempotent() async throws {
        let dir = OutboxFixture.temporaryDirectory("idem")
        defer { OutboxFixture.remove(dir) }
        let id = UUID().uuidString.lowercased()
        let confirmation = OutboxFixture.confirmation(id: id, initiator: .admin(name: "Alice Admin"))
        let writer = OutboxWriter(config: OutboxFixture.config(dir), logger: logger)
        try await writer.confirm(confirmation)
        let first = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/new/\(id)-1.eml"))
        try await writer.confirm(confirmation)
        // A new writer (a restarted daemon) reads the journal and does nothing either.
        try await OutboxWriter(config: OutboxFixture.config(dir), logger: logger).confirm(confirmation)
        #expect(OutboxFixture.files(dir, "new") == ["\(id)-1.eml", "\(id)-2.eml"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/new/\(id)-1.eml")) == first)
        let lines = OutboxFixture.journal(dir)
        #expect(lines.count == 2)
        #expect(lines.map { $0["n"] as? Int } == [1, 2])
    }

    @Test("journal lines carry the contract's fields")
    func journalFields() async throws {
        let dir = OutboxFixture.temporaryDirectory("jsonl")
        defer { OutboxFixture.remove(dir) }
        let id = UUID().uuidString.lowercased()
        try await OutboxWriter(config: OutboxFixture.config(dir), logger: logger)
            .confirm(OutboxFixture.confirmation(id: id, kind: .unlock, locale: "zh-TW"))
        let line = try #require(OutboxFixture.journal(dir).first)
        for key in ["request_id", "to", "subject", "locale", "kind", "file", "created_at", "sent"] {
            #expect(line[key] != nil, "missing \(key)")
        }
        #expect(line["request_id"] as? String == id)
        #expect(line["to"] as? [String] == ["zhang.wei@example.org", "zw@personal.example"])
        #expect(line["subject"] as? String == "Example Org：您的帳戶已解除鎖定")
        #expect(line["locale"] as? String == "zh-TW")
        #expect(line["kind"] as? String == "unlock")
        #expect(line["file"] as? String == "\(dir)/new/\(id)-1.eml")
        #expect(line["sent"] as? Bool == false)
        #expect((line["created_at"] as? String)?.hasSuffix("Z") == true)
        #expect(line["audience"] as? String == "user")
    }

    @Test("a user without mail: no message, a skipped line, the call succeeds, once")
    func noMail() async throws {
        let dir = OutboxFixture.temporaryDirectory("nomail")
        defer { OutboxFixture.remove(dir) }
        let id = UUID().uuidString.lowercased()
        let confirmation = OutboxFixture.confirmation(id: id, mail: [], alternate: [])
        let writer = OutboxWriter(config: OutboxFixture.config(dir), logger: logger)
        try await writer.confirm(confirmation)
        try await writer.confirm(confirmation)
        #expect(OutboxFixture.files(dir, "new").isEmpty)
        let lines = OutboxFixture.journal(dir)
        #expect(lines.count == 1)
        #expect(lines.first?["skipped"] as? String == "no mail attribute")
        #expect((lines.first?["to"] as? [Any])?.isEmpty == true)
        #expect(lines.first?["file"] is NSNull)
        #expect(lines.first?["request_id"] as? String == id)
    }

    @Test("an administrator's reset of a user without mail still notifies the administrators")
    func noMailAdminReset() async throws {
        let dir = OutboxFixture.temporaryDirectory("nomail-admin")
        defer { OutboxFixture.remove(dir) }
        let id = UUID().uuidString.lowercased()
        try await OutboxWriter(config: OutboxFixture.config(dir), logger: logger)
            .confirm(OutboxFixture.confirmation(id: id, initiator: .admin(name: "Alice"), mail: [], alternate: []))
        #expect(OutboxFixture.files(dir, "new") == ["\(id)-2.eml"])
        let parsed = try #require(try OutboxFixture.parse(["\(dir)/new/\(id)-2.eml"]).first)
        #expect(parsed.body.contains("has no e-mail address in the directory and was not notified"))
        #expect(OutboxFixture.journal(dir).map { $0["event"] as? String } == ["skipped", "written"])
    }

    @Test("crash after message 1 was published: only message 2 is written, line 1 recorded once")
    func crashMidway() async throws {
        let dir = OutboxFixture.temporaryDirectory("crash")
        defer { OutboxFixture.remove(dir) }
        let id = UUID().uuidString.lowercased()
        let confirmation = OutboxFixture.confirmation(id: id, initiator: .admin(name: "Alice"))
        // The state a crash right after rename(new/<id>-1.eml) leaves: message 1 complete, no
        // journal line, message 2 half-written in tmp/.
        try await OutboxWriter(config: OutboxFixture.config(dir), logger: logger).confirm(confirmation)
        let message1 = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/new/\(id)-1.eml"))
        try FileManager.default.removeItem(atPath: "\(dir)/new/\(id)-2.eml")
        try Data().write(to: URL(fileURLWithPath: "\(dir)/outbox.jsonl"))
        try Data("Date: half a mess".utf8).write(to: URL(fileURLWithPath: "\(dir)/tmp/\(id)-2.eml.999.tmp"))

        let restarted = OutboxWriter(config: OutboxFixture.config(dir), logger: logger)
        let written = try await restarted.write(confirmation)
        #expect(written == ["\(dir)/new/\(id)-2.eml"])
        #expect(OutboxFixture.files(dir, "tmp").isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/new/\(id)-1.eml")) == message1)
        try await restarted.confirm(confirmation)
        let lines = OutboxFixture.journal(dir)
        #expect(lines.map { $0["n"] as? Int }.sorted { ($0 ?? 0) < ($1 ?? 0) } == [1, 2])
        #expect(try OutboxFixture.parse(["\(dir)/new/\(id)-2.eml"]).first?.defects.isEmpty == true)
    }

    @Test("a message already delivered or failed is not written again", arguments: ["sent", "failed"])
    func alreadyMoved(_ folder: String) async throws {
        let dir = OutboxFixture.temporaryDirectory("moved")
        defer { OutboxFixture.remove(dir) }
        let id = UUID().uuidString.lowercased()
        let confirmation = OutboxFixture.confirmation(id: id)
        try await OutboxWriter(config: OutboxFixture.config(dir), logger: logger).confirm(confirmation)
        try FileManager.default.moveItem(atPath: "\(dir)/new/\(id)-1.eml", toPath: "\(dir)/\(folder)/\(id)-1.eml")
        // Lost journal too (crash before the line was synced): recovered from the file.
        try Data().write(to: URL(fileURLWithPath: "\(dir)/outbox.jsonl"))
        try await OutboxWriter(config: OutboxFixture.config(dir), logger: logger).confirm(confirmation)
        #expect(OutboxFixture.files(dir, "new").isEmpty)
        let lines = OutboxFixture.journal(dir)
        #expect(lines.count == 1)
        #expect(lines.first?["file"] as? String == "\(dir)/\(folder)/\(id)-1.eml")
        #expect(lines.first?["sent"] as? Bool == (folder == "sent"))
    }

    @Test("concurrent calls for one request produce one message")
    func concurrent() async throws {
        let dir = OutboxFixture.temporaryDirectory("conc")
        defer { OutboxFixture.remove(dir) }
        let writer = OutboxWriter(config: OutboxFixture.config(dir), logger: logger)
        let id = UUID().uuidString.lowercased()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<40 { group.addTask { try await writer.confirm(OutboxFixture.confirmation(id: id)) } }
            try await group.waitForAll()
        }
        #expect(OutboxFixture.files(dir, "new") == ["\(id)-1.eml"])
        #expect(OutboxFixture.journal(dir).count == 1)
    }

    @Test("a batch: files written several at once, results in order, a repeated id written once, one failure stays alone")
    func batch() async throws {
        let dir = OutboxFixture.temporaryDirectory("batch")
        defer { OutboxFixture.remove(dir) }
        let writer = OutboxWriter(config: OutboxFixture.config(dir), logger: logger)
        let ids = (0..<24).map { _ in UUID().uuidString.lowercased() }
        let blocked = ids[5]
        try await writer.confirm(OutboxFixture.confirmation(id: UUID().uuidString.lowercased()))   // creates folders
        // A directory where message 1's temporary file goes: that publish fails.
        try FileManager.default.createDirectory(atPath: "\(dir)/tmp/\(blocked)-1.eml.\(getpid()).tmp", withIntermediateDirectories: false)
        let batch = ids.map { OutboxFixture.confirmation(id: $0) } + [OutboxFixture.confirmation(id: ids[0]), OutboxFixture.confirmation(id: "../x")]
        let results = await writer.writeBatch(batch)
        #expect(results.count == 26)
        for (i, result) in results.enumerated() {
            switch i {
            case 5: #expect(throws: OutboxError.self) { try result.get() }
            case 24: #expect(try result.get().isEmpty)   // the repeat: already written by the first
            case 25: #expect(throws: OutboxError.unsafeRequestID("../x")) { try result.get() }
            default: #expect(try result.get() == ["\(dir)/new/\(ids[i])-1.eml"])
            }
        }
        #expect(OutboxFixture.files(dir, "new").count == 24)   // 23 + the first call's
        #expect(OutboxFixture.journal(dir).count == 24)
        #expect(!OutboxFixture.journal(dir).contains { $0["request_id"] as? String == blocked })
        // Once the obstacle is gone the failed one is written, and nothing else again.
        try FileManager.default.removeItem(atPath: "\(dir)/tmp/\(blocked)-1.eml.\(getpid()).tmp")
        let again = await writer.writeBatch(ids.map { OutboxFixture.confirmation(id: $0) })
        #expect(again.map { (try? $0.get())?.count } == ids.map { $0 == blocked ? 1 : 0 })
        #expect(OutboxFixture.journal(dir).count == 25)
    }

    @Test("directories are 0750 and files 0640 whatever the umask")
    func modes() async throws {
        let dir = OutboxFixture.temporaryDirectory("modes") + "/outbox"
        defer { OutboxFixture.remove((dir as NSString).deletingLastPathComponent) }
        let id = UUID().uuidString.lowercased()
        let old = umask(0)
        defer { umask(old) }
        try await OutboxWriter(config: OutboxFixture.config(dir), logger: logger).confirm(OutboxFixture.confirmation(id: id))
        for folder in ["", "/new", "/tmp", "/sent", "/failed", "/state"] {
            #expect(OutboxFixture.mode(dir + folder) == 0o750, "\(folder)")
        }
        #expect(OutboxFixture.mode("\(dir)/new/\(id)-1.eml") == 0o640)
        #expect(OutboxFixture.mode("\(dir)/outbox.jsonl") == 0o640)
    }

    @Test("a journal line torn by a crash is completed, not glued to the next")
    func tornJournal() async throws {
        let dir = OutboxFixture.temporaryDirectory("torn")
        defer { OutboxFixture.remove(dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("{\"request_id\":\"x\",\"n\":1,\"to\":[\"a@".utf8).write(to: URL(fileURLWithPath: "\(dir)/outbox.jsonl"))
        try await OutboxWriter(config: OutboxFixture.config(dir), logger: logger).confirm(OutboxFixture.confirmation())
        #expect(OutboxFixture.journal(dir).count == 1)
    }

    @Test("unsafe request ids and a bad From are refused")
    func refusals() async throws {
        let dir = OutboxFixture.temporaryDirectory("refuse")
        defer { OutboxFixture.remove(dir) }
        let writer = OutboxWriter(config: OutboxFixture.config(dir), logger: logger)
        for id in ["../../etc/passwd", "", "a/b", ".hidden", "x y"] {
            await #expect(throws: OutboxError.unsafeRequestID(id)) { try await writer.confirm(OutboxFixture.confirmation(id: id)) }
        }
        let bad = OutboxWriter(config: OutboxFixture.config(dir, from: "IT Desk"), logger: logger)
        await #expect(throws: OutboxError.invalidFromAddress("IT Desk")) { try await bad.confirm(OutboxFixture.confirmation()) }
        #expect(throws: OutboxError.invalidFromAddress("IT Desk")) { try OutboxWriter.validate(OutboxFixture.config(dir, from: "IT Desk")) }
        #expect(throws: Never.self) { try OutboxWriter.validate(OutboxFixture.config(dir)) }
    }

    @Test("measure: time to write one message")
    func measureWrite() async throws {
        let dir = OutboxFixture.temporaryDirectory("bench")
        defer { OutboxFixture.remove(dir) }
        let writer = OutboxWriter(config: OutboxFixture.config(dir), logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await writer.confirm(OutboxFixture.confirmation(locale: "zh-CN"))   // creates folders
        var samples: [Double] = []
        for _ in 0..<200 {
            let confirmation = OutboxFixture.confirmation(locale: "zh-CN")
            let start = ContinuousClock.now
            try await writer.confirm(confirmation)
            samples.append(microseconds(ContinuousClock.now - start))
        }
        samples.sort()
        print("OUTBOX-MEASURE write one message (zh-CN, fsync'd): p50 \(Int(samples[100])) µs, p90 \(Int(samples[180])) µs, max \(Int(samples[199])) µs")
        #expect(OutboxFixture.files(dir, "new").count == 201)

        // Rendering alone (template, MIME encoding), without the file system.
        let composer = ConfirmationComposer(from: MailAddress(parsing: "IT <it@example.org>")!, organization: "Example Org",
                                            adminNotify: [], templates: .builtin)
        var renders: [Double] = []
        for _ in 0..<1000 {
            let confirmation = OutboxFixture.confirmation(locale: "zh-CN")
            let start = ContinuousClock.now
            _ = composer.compose(confirmation)
            renders.append(microseconds(ContinuousClock.now - start))
        }
        renders.sort()
        print("OUTBOX-MEASURE render one message (zh-CN, no I/O): p50 \(Int(renders[500])) µs, p90 \(Int(renders[900])) µs")
    }
}
