import ArgumentParser
import AuditTrail
import Foundation
import RequestCodec

/// `writebackctl keygen --out DIR`: the producer's Ed25519 signing pair and the daemon's
/// X25519 sealing pair, as PEM files openssl also reads and writes (private keys 0600).
/// `--audit`: instead, the audit trail's Ed25519 pair (audit-signing.key / .pub).
struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write producer-signing.{key,pub} and daemon-sealing.{key,pub} (or, with --audit, audit-signing.{key,pub}) into a directory.",
        discussion: """
            producer-signing.key stays with the portal; producer-signing.pub goes to the daemon's
            [keys] producer_public_keys. daemon-sealing.key stays with the daemon (mode 0600);
            daemon-sealing.pub goes to producers ([keys] sealing_public_key). With --audit:
            audit-signing.key goes to the daemon ([audit] signing_key, mode 0600) and
            audit-signing.pub to the auditors (writebackctl audit verify --key). Existing files
            are never overwritten.
            """)

    @Option(name: .long, help: "Directory to write the four key files into (created 0700 if missing).")
    var out: String

    @Flag(name: .long, help: "Write the audit trail's signing pair (audit-signing.key, audit-signing.pub) instead.")
    var audit = false

    @Flag(name: .long, help: "Print the written paths as JSON.")
    var json = false

    func run() async throws {
        if audit {
            let paths: (privateKey: String, publicKey: String)
            do { paths = try AuditKeys.generate(into: out) } catch {
                FileHandle.standardError.write(Data("writebackctl keygen: \(error)\n".utf8))
                throw ExitCode(1)
            }
            if json {
                print(String(decoding: JSONValue.object(["audit_signing_key": .string(paths.privateKey),
                                                         "audit_signing_pub": .string(paths.publicKey)]).serialized(), as: UTF8.self))
            } else {
                print(paths.privateKey)
                print(paths.publicKey)
            }
            return
        }
        do {
            try PEMKeys.generate(into: out)
        } catch {
            FileHandle.standardError.write(Data("writebackctl keygen: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let names = [PEMKeys.FileName.producerSigningKey, PEMKeys.FileName.producerSigningPub,
                     PEMKeys.FileName.daemonSealingKey, PEMKeys.FileName.daemonSealingPub]
        let paths = names.map { (out as NSString).appendingPathComponent($0) }
        if json {
            let value = JSONValue.object(zip(["producer_signing_key", "producer_signing_pub", "daemon_sealing_key", "daemon_sealing_pub"], paths)
                .map { JSONMember(key: $0.0, value: .string($0.1), valueRange: 0..<0) })
            print(String(decoding: value.serialized(), as: UTF8.self))
        } else {
            for path in paths { print(path) }
        }
    }
}
