import Foundation
import RequestQueue
import Testing
import TestSupport
import WritebackCore

/// A portal that is not Swift: tests/interop/producer.py (its own RFC 9180 HPKE, Python
/// `cryptography`) seals and signs, the sqlite3 shell inserts, and the real daemon applies
/// the request to a real slapd: the user binds with the new password.
@Suite("Interop end to end", .serialized)
struct InteropEndToEndTests {
    static let script: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("tests/interop/producer.py").path
    }()

    static func produce(_ args: [String], stdin: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [script, "enqueue"] + args
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
        return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("python-sealed reset and change are applied by the daemon")
    func pythonProducer() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd)
            defer { setup.cleanup() }
            let queue = try setup.queue()  // the daemon's schema; the producer only inserts
            let common = ["--db", setup.queuePath, "--signing-key", setup.dir + "/keys/producer-signing.key",
                          "--sealing-pub", setup.dir + "/keys/daemon-sealing.pub", "--licenses", "AAD_PREMIUM"]
            let resetPassword = E2ESetup.newPassword()
            let resetID = try Self.produce(common + ["--user", "dave", "--kind", "reset", "--initiator", "admin:python"],
                                           stdin: resetPassword + "\n")
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            #expect(await eventually(timeout: 30) { (try? await queue.summary(id: resetID))?.state.isTerminal == true })
            let reset = try await queue.summary(id: resetID)
            #expect(reset?.state == .succeeded, "\(String(describing: reset)); log: \(daemon.log.suffix(2000))")
            #expect(slapd.bind(user: "dave", password: resetPassword))

            // A change: the old password is checked by the directory.
            let changed = E2ESetup.newPassword()
            let changeID = try Self.produce(common + ["--user", "dave", "--kind", "change", "--initiator", "admin:python"],
                                            stdin: resetPassword + "\n" + changed + "\n")
            #expect(await eventually(timeout: 30) { (try? await queue.summary(id: changeID))?.state.isTerminal == true })
            let change = try await queue.summary(id: changeID)
            #expect(change?.state == .succeeded, "\(String(describing: change)); log: \(daemon.log.suffix(2000))")
            #expect(slapd.bind(user: "dave", password: changed))
        }
    }

    static func ctl(_ args: [String], stdin: String = "") throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DaemonProcess.ctlPath)
        p.arguments = args
        let input = Pipe(), output = Pipe(), error = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = error
        try p.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test("writebackctl keygen, enqueue (password on stdin), result --wait --json: the reference producer end to end")
    func referenceProducer() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd)
            defer { setup.cleanup() }
            // Keys from `keygen` replace the harness's, the way an installation makes them.
            let keys = setup.dir + "/ctl-keys"
            #expect(try Self.ctl(["keygen", "--out", keys]).status == 0)
            for name in ["producer-signing.pub", "producer-signing.key", "daemon-sealing.key", "daemon-sealing.pub"] {
                try FileManager.default.removeItem(atPath: setup.dir + "/keys/" + name)
                try FileManager.default.copyItem(atPath: keys + "/" + name, toPath: setup.dir + "/keys/" + name)
            }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")

            let password = E2ESetup.newPassword()
            let enqueue = try Self.ctl(["enqueue", "--config", setup.configPath, "--signing-key", keys + "/producer-signing.key",
                                        "--user", "erin", "--kind", "reset", "--password-stdin", "--initiator", "admin:helpdesk",
                                        "--licenses", "AAD_PREMIUM", "--locale", "zh-Hant"], stdin: password + "\n")
            #expect(enqueue.status == 0, "\(enqueue.err)")
            let id = enqueue.out.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(UUID(uuidString: id) != nil)
            let result = try Self.ctl(["result", id, "--wait", "30", "--json", "--config", setup.configPath])
            #expect(result.status == 0, "\(result.err)")
            let json = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
            #expect(json?["id"] as? String == id)
            #expect(json?["state"] as? String == "succeeded" && json?["outcome"] as? String == "succeeded", "\(result.out) \(daemon.log.suffix(1500))")
            #expect(json.map { Set($0.keys) } == ["id", "state", "outcome", "detail", "attempts", "created_at", "completed_at"])
            #expect(slapd.bind(user: "erin", password: password))

            // A policy refusal comes back with its rule; text output names state and outcome.
            let weak = try Self.ctl(["enqueue", "--config", setup.configPath, "--signing-key", keys + "/producer-signing.key",
                                     "--user", "erin", "--kind", "reset", "--password-stdin", "--initiator", "admin:helpdesk",
                                     "--licenses", "AAD_PREMIUM"], stdin: "short\n")
            let weakID = weak.out.trimmingCharacters(in: .whitespacesAndNewlines)
            let text = try Self.ctl(["result", weakID, "--wait", "30", "--config", setup.configPath])
            #expect(text.status == 0 && text.out.contains("rejected") && text.out.contains("password_policy") && text.out.contains("too_short"), "\(text.out)")
            #expect(try Self.ctl(["result", UUID().uuidString.lowercased(), "--config", setup.configPath]).status == 1)
            // Never an argument: without --password-stdin a reset is refused.
            #expect(try Self.ctl(["enqueue", "--config", setup.configPath, "--signing-key", keys + "/producer-signing.key",
                                  "--user", "erin", "--kind", "reset"]).status != 0)
        }
    }
}
