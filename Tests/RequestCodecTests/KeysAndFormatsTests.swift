import Crypto
import Foundation
import RequestCodec
import Testing
import WritebackCore

/// PEM keys (keygen, openssl interop, wrong key types), RFC 3339 forms, payload redaction.
@Suite("Keys, timestamps, redaction")
struct KeysAndFormatsTests {
    static func tempDir() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("codec-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("keygen writes four PEM files, private ones 0600, that load and work together")
    func keygen() throws {
        let dir = Self.tempDir() + "/keys"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        try PEMKeys.generate(into: dir)
        for (name, mode) in [("producer-signing.key", 0o600), ("daemon-sealing.key", 0o600), ("producer-signing.pub", 0o644), ("daemon-sealing.pub", 0o644)] {
            let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/" + name)
            #expect((attrs[.posixPermissions] as? Int) == mode, "\(name)")
            #expect(try String(contentsOfFile: dir + "/" + name, encoding: .utf8).hasPrefix("-----BEGIN "))
        }
        let sealer = try RequestSealer(sealingPublicKeyPath: dir + "/daemon-sealing.pub", signingKeyPath: dir + "/producer-signing.key")
        let verifier = try RequestVerifier(keys: KeysConfig(producerPublicKeys: [dir + "/producer-signing.pub"],
                                                            sealingPrivateKey: dir + "/daemon-sealing.key", sealingPublicKey: dir + "/daemon-sealing.pub"))
        let opener = try PasswordOpener(privateKeyPath: dir + "/daemon-sealing.key")
        let pw = CodecFixture.randomPassword()
        let b = RequestBuilder(kind: .reset, user: "u", initiator: .admin(name: "a"))
        let row = try sealer.build(b, newPassword: Secret(pw))
        let r = try #require(verifier.verify(rowID: row.id, payload: row.payload, signature: row.signature, now: Date()).request)
        #expect(try opener.open(r.newPassword!, requestID: r.id, field: "new_password").unsafeString() == pw)
        #expect(throws: KeyFileError.self) { try PEMKeys.generate(into: dir) }  // never overwrites
    }

    @Test("keys written by openssl genpkey load, and a key of the wrong type is refused by name")
    func openssl() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func run(_ args: [String]) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            p.arguments = args
            try p.run(); p.waitUntilExit()
            return p.terminationStatus
        }
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"))
        #expect(try run(["genpkey", "-algorithm", "ed25519", "-out", dir + "/s.key"]) == 0)
        #expect(try run(["pkey", "-in", dir + "/s.key", "-pubout", "-out", dir + "/s.pub"]) == 0)
        #expect(try run(["genpkey", "-algorithm", "x25519", "-out", dir + "/x.key"]) == 0)
        #expect(try run(["pkey", "-in", dir + "/x.key", "-pubout", "-out", dir + "/x.pub"]) == 0)
        _ = try PEMKeys.signingPrivateKey(path: dir + "/s.key")
        _ = try PEMKeys.signingPublicKey(path: dir + "/s.pub")
        _ = try PEMKeys.sealingPrivateKey(path: dir + "/x.key")
        _ = try PEMKeys.sealingPublicKey(path: dir + "/x.pub")
        #expect(throws: KeyFileError.wrongFormat(path: dir + "/x.pub", expected: "Ed25519 public key")) {
            try PEMKeys.signingPublicKey(path: dir + "/x.pub")
        }
        #expect(throws: KeyFileError.self) { try PEMKeys.sealingPrivateKey(path: dir + "/missing.key") }
        // A signature made by openssl verifies.
        try Data(#"{"v":1}"#.utf8).write(to: URL(fileURLWithPath: dir + "/msg"))
        #expect(try run(["pkeyutl", "-sign", "-rawin", "-inkey", dir + "/s.key", "-in", dir + "/msg", "-out", dir + "/sig"]) == 0)
        let sig = try Data(contentsOf: URL(fileURLWithPath: dir + "/sig"))
        #expect(try PEMKeys.signingPublicKey(path: dir + "/s.pub").isValidSignature(sig, for: Data(#"{"v":1}"#.utf8)))
    }

    static let goodDates: [(String, TimeInterval)] = [
        ("2026-01-02T03:04:05Z", 1767323045), ("2026-01-02T03:04:05.250Z", 1767323045.25),
        ("2026-01-02T05:04:05+02:00", 1767323045), ("2026-01-01T19:34:05-07:30", 1767323045),
        ("2026-01-02t03:04:05z", 1767323045), ("2024-02-29T00:00:00Z", 1709164800),
        ("2026-01-02T03:04:05.123456789Z", 1767323045.123456789),
    ]
    static let badDates = ["2026-01-02T03:04:05", "2026-01-02 03:04:05Z", "2026-1-02T03:04:05Z", "2026-02-29T00:00:00Z",
                           "2026-01-02T24:00:00Z", "2026-01-02T03:04:05+2:00", "2026-01-02T03:04:05.Z", "2026-01-02T03:04:05Z ",
                           "", "2026-01-02", "2026-01-02T03:04:05+24:00", "２０２６-01-02T03:04:05Z"]

    @Test("RFC 3339: Z or offset, fractions allowed", arguments: goodDates)
    func goodDate(_ c: (String, TimeInterval)) throws {
        let d = try #require(RFC3339.parse(c.0))
        #expect(abs(d.timeIntervalSince1970 - c.1) < 0.001)
    }

    @Test("RFC 3339: everything else is refused", arguments: badDates)
    func badDate(_ s: String) { #expect(RFC3339.parse(s) == nil) }

    @Test("redaction replaces sealed values and keeps every other byte")
    func redaction() throws {
        let f = CodecFixture()
        let pw = CodecFixture.randomPassword()
        let row = try f.sealer.build(f.builder(.change), newPassword: Secret(pw), oldPassword: Secret(pw + "x"))
        let sealed = try #require(PayloadV1.decode(row.payload).newPassword)
        let redacted = String(decoding: PayloadRedactor.redact(row.payload), as: UTF8.self)
        #expect(redacted.contains(#""new_password":"redacted""#) && redacted.contains(#""old_password":"redacted""#))
        #expect(!redacted.contains(sealed.ct.base64EncodedString()) && !redacted.contains(sealed.enc.base64EncodedString()))
        #expect(redacted.contains(#""user":"alice""#))
        // Misspelt sealed field and unparseable payloads are not kept either.
        let odd = Data(#"{"v":1,"new_pasword":{"enc":"QUJD","ct":"REVG"}}"#.utf8)
        #expect(String(decoding: PayloadRedactor.redact(odd), as: UTF8.self) == #"{"v":1,"new_pasword":"redacted"}"#)
        #expect(String(decoding: PayloadRedactor.redact(Data(#"{"new_password":{"ct":"SECRETBYTES"#.utf8)), as: UTF8.self) == PayloadRedactor.unparseableReplacement)
    }
}
