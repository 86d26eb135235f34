import Crypto
import Foundation
import RequestCodec
import RequestQueue
import WritebackCore

/// A throwaway queue file plus producer keys; removed when the test ends.
final class QueueFixture {
    let dir: String
    let path: String
    let queue: SQLiteRequestQueue
    let signing = Curve25519.Signing.PrivateKey()
    let sealing = Curve25519.KeyAgreement.PrivateKey()
    var sealer: RequestSealer { RequestSealer(sealingPublicKey: sealing.publicKey, signingKey: signing) }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("queue-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = dir + "/queue.sqlite"
        queue = try SQLiteRequestQueue(path: path)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    static func password() -> String { "Qp-" + UUID().uuidString.prefix(13) + "#9z" }

    /// Queues a signed, sealed reset; returns the row and its password.
    @discardableResult
    func enqueueReset(user: String = "alice") async throws -> (row: SignedRequest, password: String) {
        let pw = Self.password()
        let b = RequestBuilder(kind: .reset, user: user, initiator: .admin(name: "t"))
        let row = try sealer.build(b, newPassword: Secret(pw))
        try await queue.enqueue(id: row.id, payload: row.payload, signature: row.signature)
        return (row, pw)
    }

    /// Runs the sqlite3 shell on the queue file; returns stdout.
    @discardableResult
    func sqlite(_ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = ["-bail", "-cmd", ".timeout 5000", path, sql]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every byte of the database file and its WAL, for grepping.
    func fileBytes() -> Data {
        [path, path + "-wal", path + "-journal"].compactMap { FileManager.default.contents(atPath: $0) }.reduce(Data(), +)
    }
}
