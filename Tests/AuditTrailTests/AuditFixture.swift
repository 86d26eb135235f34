import AuditTrail
import Crypto
import Foundation
import TestSupport
import WritebackCore

/// A real trail written by `AuditWriter` into a temporary directory, and helpers to read and
/// rewrite its lines the way someone tampering with it would.
struct AuditFixture {
    let dir: String
    let key = Curve25519.Signing.PrivateKey()
    var path: String { dir + "/audit.jsonl" }
    var keyPath: String { dir + "/audit-signing.key" }

    init() throws {
        dir = try Slapd.makeTempDir(prefix: "audit")
        try key.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: dir) }

    func config(batchLines: Int = 10, rotateBytes: Int = 0, signed: Bool = true) -> AuditConfig {
        var c = AuditConfig()
        c.path = path
        c.signingKey = signed ? keyPath : ""
        c.batchLines = batchLines
        c.rotateBytes = rotateBytes
        return c
    }

    func writer(_ config: AuditConfig, clock: @escaping @Sendable () -> Date = { Date() }) throws(AuditError) -> AuditWriter {
        try AuditWriter(.init(config: config, owner: "test-host:1:abcd", version: "test"), clock: clock)
    }

    static func record(_ i: Int, user: String = "user\(0)") -> AuditRecord {
        AuditRecord(requestID: "req-\(i)", user: user, userDN: "uid=\(user),ou=people,dc=example,dc=org", directory: nil,
                    kind: "reset", initiator: i % 2 == 0 ? "self" : "admin:helpdesk", outcome: "succeeded", state: "succeeded",
                    detail: nil, attempts: 1, createdAt: Date(timeIntervalSince1970: 1_790_000_000 + Double(i)),
                    completedAt: Date(timeIntervalSince1970: 1_790_000_001 + Double(i)), owner: "test-host:1:abcd")
    }

    /// Writes `count` request lines and closes the trail (so it ends with a signature).
    func writeTrail(_ count: Int, config: AuditConfig? = nil) async throws {
        let writer = try writer(config ?? self.config())
        for i in 0..<count { try await writer.append(Self.record(i, user: "user\(i % 7)")) }
        try await writer.close()
    }

    func lines(_ file: String? = nil) throws -> [String] {
        let text = try String(contentsOfFile: file ?? path, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    func bytes(of lines: [String]) -> [UInt8] { Array((lines.joined(separator: "\n") + "\n").utf8) }

    func verify(_ lines: [String], name: String = "audit.jsonl", key: Curve25519.Signing.PublicKey? = nil) -> AuditVerifier.Report {
        AuditVerifier.verify([.init(name: name, bytes: bytes(of: lines))], key: key ?? self.key.publicKey)
    }

    func verifyFiles(_ paths: [String]) throws -> AuditVerifier.Report {
        try AuditVerifier.verify(paths.map { .init(name: URL(fileURLWithPath: $0).lastPathComponent,
                                                   bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0)))) },
                                 key: key.publicKey)
    }
}
