import Foundation
import RequestCodec
import RequestQueue
import Testing
import WritebackCore

/// A request built, sealed (RFC 9180 written from scratch in Python) and signed by
/// tests/interop/producer.py and inserted with the sqlite3 shell is accepted by the Swift
/// verifier and its passwords open; and a Swift-sealed value opens in Python.
@Suite("Interop with an independent Python producer")
struct InteropProducerTests {
    static let script: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("tests/interop/producer.py").path
    }()

    static func python(_ args: [String], stdin: Data) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [script] + args
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("python reset and change rows verify and open in Swift", arguments: [RequestKind.reset, .change, .unlock])
    func pythonToSwift(_ kind: RequestKind) async throws {
        let f = try QueueFixture()
        let keys = f.dir + "/keys"
        try PEMKeys.generate(into: keys)
        let old = QueueFixture.password(), new = "Ünïcode-" + QueueFixture.password()
        let stdin: String = switch kind {
        case .reset: new + "\n"
        case .change: old + "\n" + new + "\r\n"
        case .unlock: ""
        }
        let r = try Self.python(["enqueue", "--db", f.path, "--signing-key", keys + "/producer-signing.key",
                                 "--sealing-pub", keys + "/daemon-sealing.pub", "--user", "alice", "--kind", kind.rawValue,
                                 "--methods", "email", "--registered", "email,mobile_phone", "--licenses", "EMS", "--locale", "zh-Hans"],
                                stdin: Data(stdin.utf8))
        #expect(r.status == 0)
        let id = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let rows = try await f.queue.claim(limit: 5, owner: "w", lease: .seconds(30), now: Date())
        let row = try #require(rows.first)
        #expect(rows.count == 1 && row.id == id)
        let verifier = try RequestVerifier(keys: KeysConfig(producerPublicKeys: [keys + "/producer-signing.pub"],
                                                            sealingPrivateKey: keys + "/daemon-sealing.key", sealingPublicKey: keys + "/daemon-sealing.pub"))
        let result = verifier.verify(rowID: row.id, payload: row.payload, signature: row.signature, now: Date())
        guard case .success(let request) = result else { Issue.record("refused: \(result)"); return }
        #expect(request.kind == kind && request.user == "alice" && request.licenses == ["EMS"] && request.locale == "zh-Hans")
        #expect(request.verification?.registeredMethods == ["email", "mobile_phone"])
        let opener = try PasswordOpener(privateKeyPath: keys + "/daemon-sealing.key")
        switch kind {
        case .reset:
            #expect(try opener.open(request.newPassword!, requestID: id, field: "new_password").unsafeString() == new)
        case .change:
            #expect(try opener.open(request.newPassword!, requestID: id, field: "new_password").unsafeString() == new)
            #expect(try opener.open(request.oldPassword!, requestID: id, field: "old_password").unsafeString() == old)
            #expect(throws: RequestRejection.self) { try opener.open(request.oldPassword!, requestID: id, field: "new_password") }
        case .unlock:
            #expect(request.newPassword == nil)
        }
    }

    @Test("the Python HPKE reproduces the RFC 9180 A.2.1 vector byte for byte")
    func pythonKnownAnswer() throws {
        let r = try Self.python(["selftest"], stdin: Data())
        #expect(r.status == 0 && r.out.contains("RFC 9180 A.2.1: ok"))
    }

    @Test("a value sealed by Swift opens in Python")
    func swiftToPython() throws {
        let f = try QueueFixture()
        let keys = f.dir + "/keys"
        try PEMKeys.generate(into: keys)
        let sealer = try RequestSealer(sealingPublicKeyPath: keys + "/daemon-sealing.pub", signingKeyPath: keys + "/producer-signing.key")
        let pw = "密码-" + QueueFixture.password()
        let id = UUID().uuidString.lowercased()
        let sealed = try sealer.seal(Secret(pw), requestID: id, field: "new_password")
        let json = RequestBuilder.sealedJSON(sealed).serialized()
        let r = try Self.python(["open", "--sealing-key", keys + "/daemon-sealing.key", "--id", id, "--field", "new_password"], stdin: json)
        #expect(r.status == 0 && r.out == pw)
        let wrong = try Self.python(["open", "--sealing-key", keys + "/daemon-sealing.key", "--id", id, "--field", "old_password"], stdin: json)
        #expect(wrong.status != 0)
    }
}
