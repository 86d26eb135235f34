import Foundation
import Testing
import WritebackCore
@testable import Outbox

@Suite("Outbox backlog scanner: lists a folder again only when it changed")
struct BacklogScannerTests {
    /// Sets a folder's modification time `secondsAgo` in the past (the listing is trusted only
    /// for a folder that had settled).
    func age(_ path: String, secondsAgo: Int) {
        var times = [timespec(tv_sec: time(nil) - secondsAgo, tv_nsec: 0), timespec(tv_sec: time(nil) - secondsAgo, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
    }

    @Test("counts match a full scan; a settled folder is not listed again; a change is seen at once")
    func cachedUntilChanged() throws {
        let dir = OutboxFixture.temporaryDirectory("backlog")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = OutboxFixture.config(dir)
        let outbox = OutboxDirectory(path: dir)
        try outbox.prepare(cleaning: .writer)
        for i in 0..<3 { try Data("m\(i)".utf8).write(to: URL(fileURLWithPath: outbox.path(.new, "m\(i).eml"))) }
        try Data("{}".utf8).write(to: URL(fileURLWithPath: outbox.path(.state, "m0.eml.json")))
        age(outbox.path(.new), secondsAgo: 60)
        let scanner = OutboxBacklogScanner(config)
        let first = scanner.scan()
        #expect(first.pending == 3 && first.deferred == 1 && first.failed == 0)
        #expect(first.pending == OutboxBacklog.scan(config).pending && first.deferred == OutboxBacklog.scan(config).deferred)

        // A file taken away behind the folder's unchanged time: the settled listing is reused
        // (proof that it was not listed again).
        try FileManager.default.removeItem(atPath: outbox.path(.new, "m2.eml"))
        age(outbox.path(.new), secondsAgo: 60)
        #expect(scanner.scan().pending == 3)

        // A real change moves the folder's time: seen at the next scan, and a folder that
        // changed just now is listed every time until it settles.
        try Data("m3".utf8).write(to: URL(fileURLWithPath: outbox.path(.new, "m3.eml")))
        #expect(scanner.scan().pending == 3)
        try Data("m4".utf8).write(to: URL(fileURLWithPath: outbox.path(.new, "m4.eml")))
        #expect(scanner.scan().pending == 4)
        let oldest = try #require(scanner.scan().oldestPendingSeconds)
        #expect(oldest >= 0 && oldest < 60)
    }
}
