import Foundation
import RequestCodec
import RequestQueue
import Testing
import WritebackCore

/// DESIGN.md "Terminal rows": once every request is terminal, neither the database file nor
/// its WAL holds a password or any sealed byte (secure_delete + redaction + WAL truncation).
@Suite("No secrets on disk")
struct NoSecretsOnDiskTests {
    @Test("after all rows are terminal, the file and WAL hold no plaintext, no enc, no ct")
    func grepFiles() async throws {
        let f = try QueueFixture()
        var needles: [(String, Data)] = []
        for i in 0..<40 {
            let (row, pw) = try await f.enqueueReset(user: "user\(i)")
            let sealed = try #require(try PayloadV1.decode(row.payload).newPassword)
            needles.append(("password \(i)", Data(pw.utf8)))
            needles.append(("ct \(i)", Data(sealed.ct.base64EncodedString().utf8)))
            needles.append(("enc \(i)", Data(sealed.enc.base64EncodedString().utf8)))
            needles.append(("signature \(i)", Data(row.signature.utf8)))
        }
        // Before: the sealed bytes are on disk (the test can see them at all).
        let before = f.fileBytes()
        #expect(needles.filter { $0.0.hasPrefix("ct") }.allSatisfy { before.range(of: $0.1) != nil })
        while true {
            let batch = try await f.queue.claim(limit: 7, owner: "w", lease: .seconds(60), now: Date())
            if batch.isEmpty { break }
            for (n, r) in batch.enumerated() {
                let outcome: Outcome = n % 3 == 0 ? .passwordPolicy(.tooShort) : .succeeded
                try await f.queue.complete(id: r.id, owner: "w", outcome: outcome, now: Date())
            }
        }
        #expect(try await f.queue.counts()[.pending] == 0)
        let after = f.fileBytes()
        let found = needles.filter { after.range(of: $0.1) != nil }.map(\.0)
        #expect(found.isEmpty, "left on disk: \(found.prefix(5))")
        let wal = (try? FileManager.default.attributesOfItem(atPath: f.path + "-wal")[.size] as? Int) ?? 0
        #expect(wal == 0)
    }
}
