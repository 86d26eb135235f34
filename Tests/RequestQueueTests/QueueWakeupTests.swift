import Foundation
import RequestQueue
import Synchronization
import Testing
import WritebackCore

/// Event-driven pick-up on SQLite: the inotify record decoder (pure, hostile buffers), the
/// channel-name rule, and the watcher against a real queue file, where another process's INSERT
/// (the sqlite3 shell) wakes it and the daemon's own writes do not.
@Suite("SQLite wake-ups and owners")
struct QueueWakeupTests {
    /// One inotify record as the kernel writes it (native byte order, NUL-padded name).
    static func record(watch: Int32, mask: UInt32, name: String = "", padTo: Int? = nil) -> [UInt8] {
        var nameBytes = Array(name.utf8)
        if !name.isEmpty { nameBytes.append(0) }
        if let padTo { nameBytes += [UInt8](repeating: 0, count: max(0, padTo - nameBytes.count)) }
        var out: [UInt8] = []
        withUnsafeBytes(of: watch) { out += $0 }
        withUnsafeBytes(of: mask) { out += $0 }
        withUnsafeBytes(of: UInt32(0)) { out += $0 }
        withUnsafeBytes(of: UInt32(nameBytes.count)) { out += $0 }
        return out + nameBytes
    }

    static let parseCases: [(String, [UInt8], [InotifyEvents.Event])] = [
        ("empty buffer", [], []),
        ("a file's own event", record(watch: 3, mask: 2), [.init(watch: 3, mask: 2, name: "")]),
        ("a directory event with a padded name", record(watch: 1, mask: 0x100, name: "queue.sqlite-wal", padTo: 32),
         [.init(watch: 1, mask: 0x100, name: "queue.sqlite-wal")]),
        ("two records", record(watch: 3, mask: 2) + record(watch: 1, mask: 0x80, name: "q", padTo: 16),
         [.init(watch: 3, mask: 2, name: ""), .init(watch: 1, mask: 0x80, name: "q")]),
        ("a header cut short", Array(record(watch: 3, mask: 2).prefix(10)), []),
        ("a name longer than the buffer", Array(record(watch: 1, mask: 0x100, name: "queue.sqlite", padTo: 16).prefix(20)), []),
        ("a good record, then a length of 4 GiB", record(watch: 3, mask: 2) + [1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 0],
         [.init(watch: 3, mask: 2, name: "")]),
        ("a name without NUL", Array(record(watch: 1, mask: 0x100, name: "ab").dropLast(1)).enumerated().map { $0.offset == 12 ? 2 : $0.element },
         [.init(watch: 1, mask: 0x100, name: "ab")]),
        ("invalid UTF-8 in a name", Array(record(watch: 1, mask: 0x100, name: "x").dropLast(2)) + [0xFF, 0], [.init(watch: 1, mask: 0x100, name: "\u{FFFD}")]),
    ]

    @Test("inotify records decode, and a hostile buffer ends the parse instead of overrunning it", arguments: parseCases.indices)
    func parse(_ i: Int) {
        let (name, bytes, expected) = Self.parseCases[i]
        #expect(InotifyEvents.parse(bytes) == expected, "\(name)")
    }

    static let channels: [(String, Bool)] = [
        ("writebackd", true), ("_q1", true), ("a", true), (String(repeating: "a", count: 40), true),
        ("", false), (String(repeating: "a", count: 41), false), ("1abc", false), ("Writebackd", false),
        ("q-1", false), ("q\"; DROP TABLE reset_requests; --", false), ("q'x", false), ("é", false), ("q x", false), ("q\u{0}", false),
    ]

    @Test("a notify channel is a plain lower-case identifier (it goes into DDL)", arguments: channels)
    func channelNames(_ name: String, _ valid: Bool) {
        #expect(NotifyChannel.isValid(name) == valid, "\(name.debugDescription)")
    }

    /// Counts the watcher's wake-ups.
    final class Wakes: Sendable {
        let count = Atomic<Int>(0)
        func wake() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    static func waitFor(_ timeout: TimeInterval, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }

    @Test("another process's INSERT wakes the watcher; the daemon's own claims and completions do not")
    func watcherWakesOnOthersOnly() async throws {
        let f = try QueueFixture()
        let watcher = SQLiteQueueWatcher(queue: f.queue)
        let wakes = Wakes()
        let task = Task { await watcher.run { wakes.wake() } }
        defer { task.cancel() }
        #expect(await Self.waitFor(10) { watcher.current == .inotify })
        // The daemon's own writes (through the watched queue's writer): no wake.
        try await Task.sleep(for: .milliseconds(100))
        let (row, _) = try await f.enqueueReset()
        let claimed = try await f.queue.claim(limit: 1, owner: "me", lease: .seconds(30), now: Date())
        try await f.queue.complete(id: claimed[0].id, owner: "me", outcome: Outcome(.succeeded), now: Date())
        try await Task.sleep(for: .milliseconds(400))
        #expect(wakes.value == 0, "own writes woke the watcher \(wakes.value) times")
        #expect(claimed.map(\.id) == [row.id])
        // A producer in another process: one wake, within well under a poll.
        try f.sqlite("INSERT INTO reset_requests (id, payload, signature) VALUES ('p1', '{}', 'c2ln')")
        #expect(await Self.waitFor(10) { wakes.value >= 1 }, "the sqlite3 shell's INSERT did not wake the watcher")
        // Another connection in this process (another daemon, a portal library) counts too.
        let before = wakes.value
        let other = try SQLiteRequestQueue(path: f.path)
        try await other.enqueue(id: "p2", payload: Data("{}".utf8), signature: "c2ln")
        #expect(await Self.waitFor(10) { wakes.value > before })
        task.cancel()
        _ = await task.value
        #expect(watcher.current == .poll)
    }

    @Test("owners: completed_by, holdings per lease owner, requests by owner prefix, the next due moment")
    func owners() async throws {
        let f = try QueueFixture()
        var ids: [String] = []
        for user in ["a", "b", "c", "d"] { ids.append(try await f.enqueueReset(user: user).row.id) }
        let now = Date()
        let one = try await f.queue.claim(limit: 2, owner: "hostA:11:aaaa", lease: .seconds(30), now: now)
        let two = try await f.queue.claim(limit: 1, owner: "hostB:22:bbbb", lease: .seconds(60), now: now)
        #expect(one.map(\.id) == Array(ids[0..<2]) && two.map(\.id) == [ids[2]])
        let holdings = try await f.queue.holdings(idsPerOwner: 1)
        #expect(holdings.map(\.owner) == ["hostA:11:aaaa", "hostB:22:bbbb"])
        #expect(holdings.map(\.count) == [2, 1])
        #expect(holdings[0].ids == [ids[0]])
        let expiry = try #require(holdings[0].earliestExpiry)
        #expect(abs(expiry.timeIntervalSince(now) - 30) < 0.01)
        try await f.queue.complete(id: ids[0], owner: "hostA:11:aaaa", outcome: Outcome(.succeeded), now: now)
        // Prefixes: whole owner, host:pid, host; terminal rows by who recorded them.
        #expect(try await f.queue.list(state: nil, owner: "hostA:11:aaaa", limit: 10).map(\.id) == [ids[1], ids[0]])
        #expect(try await f.queue.list(state: .succeeded, owner: "hostA:11", limit: 10).map(\.id) == [ids[0]])
        #expect(try await f.queue.list(state: nil, owner: "hostB", limit: 10).map(\.id) == [ids[2]])
        #expect(try await f.queue.list(state: nil, owner: "hostC", limit: 10).isEmpty)
        #expect(try await f.queue.list(state: nil, owner: "%", limit: 10).isEmpty, "no LIKE: % is a plain character")
        #expect(try await f.queue.summary(id: ids[0])?.owner == "hostA:11:aaaa")
        #expect(try await f.queue.summary(id: ids[3])?.owner == nil)
        // Next due: the earliest lease; a backoff's not_before earlier than that wins.
        let due = try #require(try await f.queue.nextDue(now: now))
        #expect(abs(due.timeIntervalSince(now) - 30) < 0.01)
        try await f.queue.release(id: ids[2], owner: "hostB:22:bbbb", notBefore: now.addingTimeInterval(5), countAttempt: true, lastError: "x")
        let sooner = try #require(try await f.queue.nextDue(now: now))
        #expect(abs(sooner.timeIntervalSince(now) - 5) < 0.01)
        #expect(try await f.queue.nextDue(now: now.addingTimeInterval(100)) == nil)
    }
}
