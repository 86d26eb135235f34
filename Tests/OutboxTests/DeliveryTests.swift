import Foundation
import Logging
import Testing
import TestSupport
import WritebackCore
@testable import Outbox

/// tests/mime/smtp_sink.py (aiosmtpd) on 127.0.0.1, started and stopped by PID.
final class SMTPSink {
    let directory: String
    let port: Int
    private let child: ChildProcess

    init(directory: String, port: Int = 0) throws {
        self.directory = directory
        let script = OutboxFixture.repoRoot.appendingPathComponent("tests/mime/smtp_sink.py").path
        child = try ChildProcess(OutboxFixture.python, [script, directory, "--port", "\(port)"])
        guard let line = child.readLine(prefix: "PORT="), let bound = Int(line) else {
            child.stop()
            throw OutboxError.io(operation: "start", path: script, reason: "no PORT= line")
        }
        self.port = bound
    }

    func stop() { child.stop() }

    /// Received messages (`<n>.eml`), in order.
    var messages: [String] {
        OutboxFixture.files(directory, "").filter { $0.hasSuffix(".eml") }
            .sorted { Int($0.dropLast(4))! < Int($1.dropLast(4))! }.map { "\(directory)/\($0)" }
    }
}

/// An outbox whose sendmail command is msmtp pointed at a sink.
struct MsmtpSetup {
    let dir: String
    let config: OutboxConfig

    init(label: String, port: Int) throws {
        dir = OutboxFixture.temporaryDirectory(label)
        let rc = "\(dir)/msmtprc"
        try """
            defaults
            account default
            host 127.0.0.1
            port \(port)
            auth off
            tls off
            from noreply@example.org
            timeout 5
            """.write(toFile: rc, atomically: true, encoding: .utf8)
        chmod(rc, 0o600)
        var config = OutboxFixture.config("\(dir)/outbox")
        config.sendmail = "/usr/bin/msmtp -C \(rc) -t"
        self.config = config
    }
}

func waitUntil(_ timeout: TimeInterval, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return condition()
}

@Suite("Outbox delivery through msmtp to a loopback SMTP server", .serialized)
struct DeliveryTests {
    let logger = Logger(label: "test")

    static func fastPolicy(backoff: TimeInterval = 0.3, attempts: Int = 5, timeout: TimeInterval = 10) -> OutboxDeliveryPolicy {
        OutboxDeliveryPolicy(pollInterval: .seconds(60), initialBackoff: backoff, maxBackoff: 5, maxAttempts: attempts,
                             maxAge: 3600, commandTimeout: timeout)
    }

    @Test("messages arrive intact, move to sent/, and the journal says sent")
    func deliversIntact() async throws {
        let sinkDir = OutboxFixture.temporaryDirectory("sink")
        let sink = try SMTPSink(directory: sinkDir)
        defer { sink.stop(); OutboxFixture.remove(sinkDir) }
        let setup = try MsmtpSetup(label: "deliver", port: sink.port)
        defer { OutboxFixture.remove(setup.dir) }
        let id = UUID().uuidString.lowercased()
        try await OutboxWriter(config: setup.config, logger: logger)
            .confirm(OutboxFixture.confirmation(id: id, initiator: .admin(name: "Alice Admin"), displayName: "张伟", locale: "zh-CN"))
        let deliverer = try OutboxDeliverer(config: setup.config, logger: logger, policy: Self.fastPolicy())
        let pass = await deliverer.deliverDue()
        #expect(pass.delivered == 2 && pass.deferred == 0 && pass.failed == 0)
        #expect(OutboxFixture.files(setup.dir + "/outbox", "new").isEmpty)
        #expect(OutboxFixture.files(setup.dir + "/outbox", "sent") == ["\(id)-1.eml", "\(id)-2.eml"])
        #expect(await waitUntil(5) { sink.messages.count == 2 })

        for (index, received) in sink.messages.enumerated() {
            let stored = try Data(contentsOf: URL(fileURLWithPath: "\(setup.dir)/outbox/sent/\(id)-\(index + 1).eml"))
            let wire = try Data(contentsOf: URL(fileURLWithPath: received))
            // The wire form is CRLF; otherwise byte for byte what the outbox stored.
            #expect(String(decoding: wire, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n") == String(decoding: stored, as: UTF8.self))
            let envelope = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: received.replacingOccurrences(of: ".eml", with: ".json")))) as? [String: Any]
            #expect(envelope?["mail_from"] as? String == "noreply@example.org")
            let expected = index == 0 ? ["zhang.wei@example.org", "zw@personal.example"] : ["secops@example.org"]
            #expect(envelope?["rcpt_tos"] as? [String] == expected)
        }
        let parsed = try OutboxFixture.parse(sink.messages)
        #expect(parsed.allSatisfy { $0.defects.isEmpty })
        #expect(parsed[0].subject == "Example Org：您的密码已重置，账户已解锁")
        #expect(parsed[0].body.contains("管理员 Alice Admin"))

        let lines = OutboxFixture.journal(setup.dir + "/outbox")
        let sent = lines.filter { $0["event"] as? String == "sent" }
        #expect(sent.count == 2)
        #expect(sent.allSatisfy { $0["sent"] as? Bool == true && $0["request_id"] as? String == id && $0["attempts"] as? Int == 1 })
        #expect(sent.first?["subject"] as? String == "Example Org：您的密码已重置，账户已解锁")
        #expect(sent.first?["to"] as? [String] == ["zhang.wei@example.org", "zw@personal.example"])
        #expect(sent.first?["locale"] as? String == "zh-CN")
        #expect(sent.first?["kind"] as? String == "reset")
        #expect(deliverer.backlog() == OutboxBacklog(pending: 0, deferred: 0, failed: 0, oldestPendingSeconds: nil, deliveryEnabled: true))
    }

    @Test("SMTP server down: the message stays in new/, the attempt is recorded, and it is delivered once the server is back")
    func retriesUntilServerIsBack() async throws {
        let sinkDir = OutboxFixture.temporaryDirectory("sink")
        defer { OutboxFixture.remove(sinkDir) }
        let first = try SMTPSink(directory: sinkDir)
        let port = first.port
        first.stop()                                   // the server is down
        let setup = try MsmtpSetup(label: "retry", port: port)
        defer { OutboxFixture.remove(setup.dir) }
        let outbox = setup.dir + "/outbox"
        let id = UUID().uuidString.lowercased()
        try await OutboxWriter(config: setup.config, logger: logger).confirm(OutboxFixture.confirmation(id: id))
        let clock = ManualClock()
        let deliverer = try OutboxDeliverer(config: setup.config, logger: logger, policy: Self.fastPolicy(backoff: 0.5),
                                            now: { clock.now() })

        let down = await deliverer.deliverDue()
        #expect(down.deferred == 1 && down.delivered == 0)
        #expect(OutboxFixture.files(outbox, "new") == ["\(id)-1.eml"])
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(outbox)/state/\(id)-1.eml.json"))) as? [String: Any]
        #expect(record?["attempts"] as? Int == 1)
        #expect((record?["last_error"] as? String)?.contains("exit status 75") == true, "\(record ?? [:])")
        #expect(deliverer.backlog().pending == 1 && deliverer.backlog().deferred == 1)
        let notDue = await deliverer.deliverDue()     // backoff not over: no attempt
        #expect(notDue.waiting == 1 && notDue.deferred == 0)

        clock.advance(0.6)
        let stillDown = await deliverer.deliverDue()  // second attempt, still down: backoff doubles
        #expect(stillDown.deferred == 1)
        let record2 = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(outbox)/state/\(id)-1.eml.json"))) as? [String: Any]
        let gap = (record2?["next_attempt_at"] as? Double ?? 0) - (record2?["last_attempt_at"] as? Double ?? 0)
        #expect(abs(gap - 1.0) < 0.01)

        let sink = try SMTPSink(directory: sinkDir, port: port)   // back
        defer { sink.stop() }
        clock.advance(1.1)
        let back = await deliverer.deliverDue()
        #expect(back.delivered == 1)
        #expect(OutboxFixture.files(outbox, "sent") == ["\(id)-1.eml"])
        #expect(OutboxFixture.files(outbox, "state").isEmpty)
        #expect(await waitUntil(5) { sink.messages.count == 1 })
        let sent = OutboxFixture.journal(outbox).filter { $0["event"] as? String == "sent" }
        #expect(sent.count == 1 && sent.first?["attempts"] as? Int == 3)
    }

    @Test("a command that keeps failing ends in failed/ with a reason; a permanent refusal at once")
    func givesUp() async throws {
        let dir = OutboxFixture.temporaryDirectory("fail")
        defer { OutboxFixture.remove(dir) }
        for (command, attempts, permanent) in [("/bin/sh -c 'cat >/dev/null; echo boom >&2; exit 1'", 2, false),
                                               ("/bin/sh -c 'cat >/dev/null; echo no such user >&2; exit 67'", 1, true)] {
            var config = OutboxFixture.config("\(dir)/\(attempts)")
            config.sendmail = command
            let id = UUID().uuidString.lowercased()
            try await OutboxWriter(config: config, logger: logger).confirm(OutboxFixture.confirmation(id: id))
            let deliverer = try OutboxDeliverer(config: config, logger: logger, policy: Self.fastPolicy(backoff: 0, attempts: 2))
            var failed = 0
            for _ in 0..<attempts { failed += await deliverer.deliverDue().failed }
            #expect(failed == 1)
            #expect(OutboxFixture.files(config.dir, "failed") == ["\(id)-1.eml", "\(id)-1.reason"])
            let reason = try String(contentsOfFile: "\(config.dir)/failed/\(id)-1.reason", encoding: .utf8)
            #expect(reason.contains(permanent ? "refused the message permanently" : "2 attempts failed"))
            #expect(reason.contains(permanent ? "exit status 67: no such user" : "exit status 1: boom"))
            let line = OutboxFixture.journal(config.dir).last
            #expect(line?["event"] as? String == "failed" && line?["sent"] as? Bool == false)
            #expect(deliverer.backlog().failed == 1 && deliverer.backlog().pending == 0)
            #expect(OutboxBacklog.scan(config).failed == 1)
            // Once failed, the request is still done: confirming again writes nothing.
            try await OutboxWriter(config: config, logger: logger).confirm(OutboxFixture.confirmation(id: id))
            #expect(OutboxFixture.files(config.dir, "new").isEmpty)
        }
    }

    @Test("a command that hangs is killed at the timeout and counts as a failed attempt")
    func timeout() async throws {
        let dir = OutboxFixture.temporaryDirectory("hang")
        defer { OutboxFixture.remove(dir) }
        var config = OutboxFixture.config(dir)
        config.sendmail = "/bin/sleep 30"
        try await OutboxWriter(config: config, logger: logger).confirm(OutboxFixture.confirmation())
        let deliverer = try OutboxDeliverer(config: config, logger: logger, policy: Self.fastPolicy(timeout: 0.5))
        let start = ContinuousClock.now
        let pass = await deliverer.deliverDue()
        #expect(pass.deferred == 1)
        // Killed: the command sleeps 30 s. The bound leaves room for a loaded 2-core machine.
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test("run(): delivers when woken by the writer, stops on stop(); measure delivery latency")
    func serviceLoop() async throws {
        let sinkDir = OutboxFixture.temporaryDirectory("sink")
        let sink = try SMTPSink(directory: sinkDir)
        defer { sink.stop(); OutboxFixture.remove(sinkDir) }
        let setup = try MsmtpSetup(label: "loop", port: sink.port)
        defer { OutboxFixture.remove(setup.dir) }
        let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let deliverer = try OutboxDeliverer(config: setup.config, logger: quiet, policy: Self.fastPolicy())
        let writer = OutboxWriter(config: setup.config, logger: quiet, onWritten: { deliverer.wake() })
        let loop = Task { try await deliverer.run() }
        var latencies: [Double] = []
        for index in 0..<20 {
            let start = ContinuousClock.now
            try await writer.confirm(OutboxFixture.confirmation())
            #expect(await waitUntil(10) { sink.messages.count == index + 1 })
            latencies.append(microseconds(ContinuousClock.now - start) / 1000)
        }
        latencies.sort()
        print("OUTBOX-MEASURE confirm → received by SMTP sink via msmtp: p50 \(String(format: "%.1f", latencies[10])) ms, p90 \(String(format: "%.1f", latencies[18])) ms, max \(String(format: "%.1f", latencies[19])) ms")
        let stopStart = ContinuousClock.now
        deliverer.stop()
        try await loop.value
        // stop() interrupts the idle wait (the poll interval is 60 s); generous for a loaded machine.
        #expect(ContinuousClock.now - stopStart < .seconds(20))
        #expect(OutboxFixture.files(setup.dir + "/outbox", "sent").count == 20)
    }
}
