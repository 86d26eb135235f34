import ArgumentParser
import Foundation
import RequestCodec

/// `writebackctl keygen --out DIR`: the producer's Ed25519 signing pair and the daemon's
/// X25519 sealing pair, as PEM files openssl also reads and writes (private keys 0600).
struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write producer-signing.{key,pub} and daemon-sealing.{key,pub} into a directory.",
        discussion: """
            producer-signing.key stays with the portal; producer-signing.pub goes to the daemon's
            [keys] producer_public_keys. daemon-sealing.key stays with the daemon (mode 0600);
            daemon-sealing.pub goes to producers ([keys] sealing_public_key). Existing files are
            never overwritten.
            """)

    @Option(name: .long, help: "Directory to write the four key files into (created 0700 if missing).")
    var out: String

    @Flag(name: .long, help: "Print the written paths as JSON.")
    var json = false

    func run() async throws {
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
