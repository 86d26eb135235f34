import AuditTrail
import Foundation
import Testing
import Synchronization
import WritebackCore

/// The file writer against a real file: crash repair, rotation that keeps the chain, the
/// lock against a second writer, time-based signing.
@Suite("Audit trail: the writer")
struct AuditWriterTests {
    @Test("a torn last line (killed mid-append) is cut off at the next open, recorded, and the chain verifies")
    func tornRepair() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try await f.writeTrail(7)
        // What a write cut short leaves: part of a line, no newline.
        let handle = try #require(FileHandle(forWritingAtPath: f.path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"seq\":10,\"prev\":\"0123".utf8))
        try handle.close()

        let writer = try f.writer(f.config())
        #expect(writer.opened.repairedTorn?.bytes == 22)
        try await writer.append(AuditFixture.record(100))
        try await writer.close()

        let lines = try f.lines()
        let report = f.verify(lines)
        #expect(report.ok, "\(report.findings)")
        #expect(report.unsigned == nil)
        #expect(report.notes.contains { $0.contains("torn last line of 22 bytes") }, "\(report.notes)")
        #expect(lines.contains { $0.contains("\"repaired_torn_bytes\":22") })
    }

    @Test("a trail whose whole content is one torn line starts again from seq 0")
    func allTorn() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try Data("{\"seq\":0,\"pr".utf8).write(to: URL(fileURLWithPath: f.path))
        let writer = try f.writer(f.config())
        #expect(writer.opened.repairedTorn?.bytes == 12)
        try await writer.close()
        let report = f.verify(try f.lines())
        #expect(report.ok && report.firstSeq == 0, "\(report.findings)")
    }

    @Test("restarts continue the chain: seq and prev carry on from the last line")
    func restart() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try await f.writeTrail(3)
        try await f.writeTrail(4)
        let lines = try f.lines()
        #expect(lines.filter { $0.contains("\"type\":\"open\"") }.count == 2)
        let report = f.verify(lines)
        #expect(report.ok && report.unsigned == nil, "\(report.findings)")
        #expect(report.lastSeq == lines.count - 1)
    }

    @Test("rotation: each file ends signed, the next starts from its last hash; the set verifies in any order, a missing file is named")
    func rotation() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try await f.writeTrail(60, config: f.config(batchLines: 5, rotateBytes: 4000))
        let files = AuditFiles.trail(current: f.path)
        #expect(files.count >= 3, "\(files)")
        for file in files.dropLast() {
            #expect(try f.lines(file).last?.contains("\"type\":\"signature\"") == true, "\(file) does not end signed")
        }
        #expect(try f.lines(files[1]).first?.contains("\"previous_file\":\"\(URL(fileURLWithPath: files[0]).lastPathComponent)\"") == true)
        let all = try f.verifyFiles(files.reversed())
        #expect(all.ok && all.unsigned == nil && all.firstSeq == 0, "\(all.findings)")

        // Without the middle file: its lines are named as removed, between the two files.
        var gap = files
        gap.remove(at: 1)
        let missing = try f.verifyFiles(gap)
        #expect(missing.findings.map(\.cause) == ["removed"], "\(missing.findings)")
        // The last file alone: verifies, and says it continues an earlier file.
        let alone = try f.verifyFiles([files.last!])
        #expect(alone.ok && alone.notes.contains { $0.contains("continues an earlier file") }, "\(alone)")
    }

    @Test("a second writer on the same trail is refused while the first holds it")
    func lock() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        let first = try f.writer(f.config())
        #expect(throws: AuditError.inUse(path: f.path)) { _ = try f.writer(f.config()) }
        try await first.close()
    }

    @Test("a trail whose last line is not an audit line is refused at open, with the way out")
    func damagedLastLine() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try await f.writeTrail(2)
        let handle = try #require(FileHandle(forWritingAtPath: f.path))
        handle.seekToEndOfFile()
        handle.write(Data("not an audit line\n".utf8))
        try handle.close()
        do throws(AuditError) {
            _ = try f.writer(f.config())
            Issue.record("opened a damaged trail")
        } catch {
            guard case .lastLineUnreadable = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("audit verify"))
        }
    }

    @Test("lines older than batch_seconds are signed by signIfDue, younger ones are not")
    func timedSignature() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        let clock = TestClock()
        var config = f.config(batchLines: 1000)
        config.batchSeconds = 60
        let writer = try f.writer(config, clock: { clock.now })
        try await writer.append(AuditFixture.record(1))
        try await writer.signIfDue()
        #expect(f.verify(try f.lines()).signatures == 0)
        clock.advance(61)
        try await writer.signIfDue()
        let report = f.verify(try f.lines())
        #expect(report.signatures == 1 && report.unsigned == nil, "\(report)")
        try await writer.close()
        #expect(f.verify(try f.lines()).signatures == 1, "close adds nothing when all is signed")
    }

    @Test("hostile text in fields is escaped and reads back unchanged")
    func escaping() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        let writer = try f.writer(f.config())
        let nasty = "a\"b\\c\nd\u{0}e\u{2028}f\u{1F600},\"outcome\":\"x"
        var record = AuditFixture.record(1, user: nasty)
        record.detail = nasty
        try await writer.append(record)
        try await writer.close()
        let lines = try f.lines()
        #expect(lines.count == 3)
        let entry = try AuditEntry.parse(Array(lines[1].utf8))
        let expected = nasty.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")  // NUL: the one change
        #expect(entry.string("user") == expected && entry.string("detail") == expected && entry.string("outcome") == "succeeded")
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let seconds = Mutex<Double>(1_790_000_000)
    var now: Date { Date(timeIntervalSince1970: seconds.withLock { $0 }) }
    func advance(_ s: Double) { seconds.withLock { $0 += s } }
}
