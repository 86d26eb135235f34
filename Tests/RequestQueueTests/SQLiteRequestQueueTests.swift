import Foundation
import RequestCodec
import RequestQueue
import Testing
import TestSupport
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// The claim protocol on a real SQLite file: leases, reclaim after expiry, ownership,
/// redaction at completion, release with backoff, counts and listing.
@Suite("SQLite request queue")
struct SQLiteRequestQueueTests {
    let t0 = Date()

    @Test("a producer inserting only id, payload, signature with the sqlite3 shell makes a pending row")
    func producerInsert() async throws {
        let f = try QueueFixture()
        let id = UUID().uuidString.lowercased()
        try f.sqlite("INSERT INTO reset_requests (id, payload, signature) VALUES ('\(id)', '{\"v\":1}', 'c2ln');")
        let s = try #require(try await f.queue.summary(id: id))
        #expect(s.state == .pending && s.attempts == 0 && s.outcome == nil && s.completedAt == nil)
        #expect(abs(s.createdAt.timeIntervalSinceNow) < 60)
        let claimed = try await f.queue.claim(limit: 5, owner: "w1", lease: .seconds(30), now: Date())
        #expect(claimed.map(\.id) == [id])
        #expect(claimed.first?.payload == Data(#"{"v":1}"#.utf8) && claimed.first?.signature == "c2ln")
        #expect(throws: (any Error).self) {  // the id is the idempotency key
            try f.sqlite("INSERT INTO reset_requests (id, payload, signature) VALUES ('\(id)', 'x', 'y');")
        }
    }

    @Test("claim: oldest first, leased, invisible to others until the lease expires, intent survives reclaim")
    func leases() async throws {
        let f = try QueueFixture()
        let a = try await f.enqueueReset().row
        try await Task.sleep(for: .milliseconds(5))
        let b = try await f.enqueueReset().row
        let now = Date()
        let first = try await f.queue.claim(limit: 1, owner: "w1", lease: .seconds(30), now: now)
        #expect(first.map(\.id) == [a.id] && first[0].payload == a.payload && !first[0].intentRecorded)
        try await f.queue.recordIntent(id: a.id, owner: "w1", stamp: "20260101000000Z")
        let second = try await f.queue.claim(limit: 10, owner: "w2", lease: .seconds(30), now: now)
        #expect(second.map(\.id) == [b.id])
        #expect(try await f.queue.claim(limit: 10, owner: "w3", lease: .seconds(30), now: now.addingTimeInterval(29)).isEmpty)
        // w1 "crashed": after its lease, another worker gets the row, with the intent.
        let reclaimed = try await f.queue.claim(limit: 1, owner: "w3", lease: .seconds(30), now: now.addingTimeInterval(31))
        #expect(reclaimed.map(\.id) == [a.id])
        #expect(reclaimed.first?.intentRecorded == true && reclaimed.first?.intentStamp == "20260101000000Z")
        // The old owner lost it: no intent, no completion.
        await #expect(throws: QueueError.notOwner(id: a.id)) { try await f.queue.recordIntent(id: a.id, owner: "w1", stamp: nil) }
        await #expect(throws: QueueError.notOwner(id: a.id)) { try await f.queue.complete(id: a.id, owner: "w1", outcome: .succeeded, now: now) }
        try await f.queue.complete(id: a.id, owner: "w3", outcome: .succeeded, now: now)
        #expect(try await f.queue.summary(id: a.id)?.state == .succeeded)
    }

    @Test("one open intent per account: a second request for it waits until the first is settled")
    func userKey() async throws {
        let f = try QueueFixture()
        var rows: [String] = []
        for _ in 0..<3 { rows.append(try await f.enqueueReset().row.id); try await Task.sleep(for: .milliseconds(5)) }
        let problems = try await UserKeyScenario.run(f.queue, rows: rows) { error, id in (error as? QueueError) == .userBusy(id: id) }
        #expect(problems == [])
    }

    @Test("claim skips rows routed to a busy directory (hostile names too); first claim only before any give-back")
    func skipBusyDirectories() async throws {
        let f = try QueueFixture()
        var rows: [String] = []
        for _ in 0..<4 {
            rows.append(try await f.enqueueReset().row.id)
            try await Task.sleep(for: .milliseconds(3))
        }
        let now = Date()
        // Rows 0 and 1 were routed to "contoso" and given back (busy); row 2 to "o'x\"]".
        let first = try await f.queue.claim(limit: 3, owner: "w", lease: .seconds(30), now: now)
        #expect(first.map(\.id) == Array(rows.prefix(3)) && first.allSatisfy(\.firstClaim))
        for id in rows.prefix(2) {
            try await f.queue.release(id: id, owner: "w", notBefore: now, countAttempt: false, lastError: "busy", directory: "contoso",
                                      withdrawingIntent: false)
        }
        try await f.queue.release(id: rows[2], owner: "w", notBefore: now, countAttempt: false, lastError: "busy", directory: #"o'x\"]"#,
                                  withdrawingIntent: false)
        // contoso busy: its rows stay, the unrouted newer row 3 comes first.
        let skipping = try await f.queue.claim(limit: 2, owner: "w", lease: .seconds(30), now: now,
                                               skippingDirectories: ["contoso", #"o'x\"]"#, "') OR 1=1 --"])
        #expect(skipping.map(\.id) == [rows[3]] && skipping[0].firstClaim)
        let again = try await f.queue.claim(limit: 5, owner: "w", lease: .seconds(30), now: now)
        #expect(again.map(\.id) == Array(rows.prefix(3)) && again.allSatisfy { !$0.firstClaim })
        // Given back at shutdown: not a first claim either.
        try await f.queue.releaseAll(owner: "w")
        let afterStop = try await f.queue.claim(limit: 5, owner: "v", lease: .seconds(30), now: now)
        #expect(afterStop.count == 4 && afterStop.allSatisfy { !$0.firstClaim })
    }

    @Test("complete: outcome, detail, completed_at; payload redacted and signature cleared in one step",
          arguments: [Outcome.succeeded, .passwordPolicy(.history), Outcome(.directoryError, detail: "timeout")])
    func complete(_ outcome: Outcome) async throws {
        let f = try QueueFixture()
        let (row, _) = try await f.enqueueReset()
        let sealed = try #require(try PayloadV1.decode(row.payload).newPassword)
        _ = try await f.queue.claim(limit: 1, owner: "w", lease: .seconds(30), now: Date())
        try await f.queue.complete(id: row.id, owner: "w", outcome: outcome, now: Date())
        let s = try #require(try await f.queue.summary(id: row.id))
        #expect(s.state == outcome.state && s.outcome == outcome.code.rawValue && s.detail == outcome.detail && s.completedAt != nil)
        let payload = try f.sqlite("SELECT payload FROM reset_requests WHERE id = '\(row.id)'")
        #expect(payload.contains(#""new_password":"redacted""#) && !payload.contains(sealed.ct.base64EncodedString()))
        #expect(try f.sqlite("SELECT signature = '' FROM reset_requests WHERE id = '\(row.id)'") == "1")
        #expect(try f.sqlite("SELECT state, outcome FROM reset_requests WHERE id = '\(row.id)'") == "\(outcome.state.rawValue)|\(outcome.code.rawValue)")
        await #expect(throws: QueueError.notOwner(id: row.id)) { try await f.queue.complete(id: row.id, owner: "w", outcome: .succeeded, now: Date()) }
        #expect(try await f.queue.claim(limit: 10, owner: "w", lease: .seconds(1), now: Date().addingTimeInterval(3600)).isEmpty)
    }

    @Test("release: pending again after not_before, attempts counted only when asked, last_error kept")
    func release() async throws {
        let f = try QueueFixture()
        let (row, _) = try await f.enqueueReset()
        let now = Date()
        _ = try await f.queue.claim(limit: 1, owner: "w", lease: .seconds(30), now: now)
        try await f.queue.release(id: row.id, owner: "w", notBefore: now.addingTimeInterval(10), countAttempt: true, lastError: "busy")
        #expect(try await f.queue.summary(id: row.id)?.state == .pending)
        #expect(try await f.queue.claim(limit: 1, owner: "w", lease: .seconds(30), now: now.addingTimeInterval(5)).isEmpty)
        let again = try await f.queue.claim(limit: 1, owner: "w", lease: .seconds(30), now: now.addingTimeInterval(11))
        #expect(again.first?.attempts == 1)
        try await f.queue.release(id: row.id, owner: "w", notBefore: now, countAttempt: false, lastError: nil)
        #expect(try await f.queue.summary(id: row.id)?.attempts == 1)
        #expect(try f.sqlite("SELECT last_error FROM reset_requests") == "busy")
        await #expect(throws: QueueError.notOwner(id: row.id)) {
            try await f.queue.release(id: row.id, owner: "w", notBefore: now, countAttempt: false, lastError: nil)
        }

        // An intent recorded, then the row given back without a write: withdrawn only when asked.
        for withdraw in [false, true] {
            let held = try await f.queue.claim(limit: 1, owner: "w", lease: .seconds(30), now: now.addingTimeInterval(20))
            #expect(held.map(\.id) == [row.id])
            try await f.queue.recordIntent(id: row.id, owner: "w", stamp: "20261203000000Z")
            try await f.queue.release(id: row.id, owner: "w", notBefore: now, countAttempt: false, lastError: nil, directory: nil,
                                      withdrawingIntent: withdraw)
            #expect(try await f.queue.intentRecorded(id: row.id) == !withdraw)
            #expect(try f.sqlite("SELECT COALESCE(intent_stamp, 'none') FROM reset_requests") == (withdraw ? "none" : "20261203000000Z"))
            if !withdraw {
                let again = try await f.queue.claim(limit: 1, owner: "w", lease: .seconds(30), now: now.addingTimeInterval(20))
                #expect(again.first?.intentRecorded == true)
                try await f.queue.release(id: row.id, owner: "w", notBefore: now, countAttempt: false, lastError: nil)
            }
        }
    }

    @Test("releaseAll gives back only this owner's rows; counts, list, oldestPending")
    func releaseAllAndReads() async throws {
        let f = try QueueFixture()
        var ids: [String] = []
        let before = Date()
        for _ in 0..<5 { ids.append(try await f.enqueueReset().row.id); try await Task.sleep(for: .milliseconds(3)) }
        let now = Date()
        _ = try await f.queue.claim(limit: 2, owner: "a", lease: .seconds(30), now: now)
        _ = try await f.queue.claim(limit: 1, owner: "b", lease: .seconds(30), now: now)
        #expect(try await f.queue.counts()[.inProgress] == 3)
        try await f.queue.releaseAll(owner: "a")
        let counts = try await f.queue.counts()
        #expect(counts[.pending] == 4 && counts[.inProgress] == 1 && counts[.succeeded] == 0)
        #expect(try await f.queue.list(state: nil, limit: 50).map(\.id) == ids.reversed())
        #expect(try await f.queue.list(state: .inProgress, limit: 50).map(\.id) == [ids[2]])
        #expect(try await f.queue.list(state: nil, limit: 2).count == 2)
        let age = try #require(try await f.queue.oldestPending(now: now.addingTimeInterval(10)))
        // The oldest row was made between `before` and `now` (a busy run may stall in between).
        #expect(age >= 10 && age <= now.timeIntervalSince(before) + 10.01)
    }

    @Test("two daemons draining one file claim every row exactly once")
    func concurrentClaims() async throws {
        let f = try QueueFixture()
        for _ in 0..<60 { try await f.enqueueReset() }
        let other = try SQLiteRequestQueue(path: f.path)
        let results = try await withThrowingTaskGroup(of: [String].self) { group in
            for (n, q) in [f.queue, other, f.queue, other].enumerated() {
                group.addTask {
                    var got: [String] = []
                    while true {
                        let batch = try await q.claim(limit: 3, owner: "w\(n)", lease: .seconds(60), now: Date())
                        if batch.isEmpty { return got }
                        for r in batch { try await q.complete(id: r.id, owner: "w\(n)", outcome: .succeeded, now: Date()) }
                        got += batch.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(results.count == 60 && Set(results).count == 60)
        #expect(try await f.queue.counts()[.succeeded] == 60)
    }

    @Test("retention prunes old terminal rows only")
    func retention() async throws {
        let f = try QueueFixture()
        let done = try await f.enqueueReset().row
        let open = try await f.enqueueReset().row
        _ = try await f.queue.claim(limit: 1, owner: "w", lease: .seconds(30), now: Date())
        try await f.queue.complete(id: done.id, owner: "w", outcome: .succeeded, now: Date())
        #expect(try await f.queue.pruneTerminal(now: Date().addingTimeInterval(86_400)) == 0)
        #expect(try await f.queue.pruneTerminal(now: Date().addingTimeInterval(31 * 86_400)) == 1)
        #expect(try await f.queue.summary(id: done.id) == nil)
        #expect(try await f.queue.summary(id: open.id)?.state == .pending)
    }

    @Test("a read-only open never creates a queue file at a mistyped path")
    func openExisting() throws {
        #expect(throws: QueueError.fileNotFound(path: "/nonexistent/q.sqlite")) { try SQLiteRequestQueue.openExisting(path: "/nonexistent/q.sqlite") }
    }

    @Test("rows of a dead daemon on this host are reclaimed at once; a live or remote holder keeps its lease")
    func deadOwner() async throws {
        let f = try QueueFixture()
        let host = ProcessInfo.processInfo.hostName
        let dead = try await f.enqueueReset()
        let alive = try await f.enqueueReset()
        let remote = try await f.enqueueReset()
        let now = Date()
        #expect(try await f.queue.claim(limit: 3, owner: "setup", lease: .seconds(60), now: now).count == 3)
        for (row, owner) in [(dead, "\(host):4194303:dead"), (alive, "\(host):\(getpid()):live"), (remote, "elsewhere.example:4194303:x")] {
            try f.sqlite("UPDATE reset_requests SET lease_owner = '\(owner)' WHERE id = '\(row.row.id)'")
        }
        let reclaimed = try await f.queue.claim(limit: 10, owner: "\(host):\(getpid()):new", lease: .seconds(60), now: now)
        #expect(reclaimed.map(\.id) == [dead.row.id])
    }

    @Test("the look for dead holders is spaced: once per interval of the claims' clock, again when the clock goes back")
    func deadHolderCheckSpacing() {
        let spacing = DeadOwner.CheckSpacing(interval: 1)
        let cases: [(TimeInterval, Bool)] = [(0, true), (0.2, false), (0.999, false), (1.0, true), (1.5, false), (0.5, true), (0.6, false), (3600, true)]
        for (offset, due) in cases {
            #expect(spacing.due(t0.addingTimeInterval(offset)) == due, "at +\(offset) s")
        }
    }

    @Test("rows with a recorded intent are claimed before older pending rows")
    func orphansFirst() async throws {
        let f = try QueueFixture()
        let older = try await f.enqueueReset().row
        let orphan = try await f.enqueueReset().row
        let now = Date()
        _ = try await f.queue.claim(limit: 1, owner: "a", lease: .seconds(5), now: now)
        try await f.queue.release(id: older.id, owner: "a", notBefore: now, countAttempt: false, lastError: nil)
        _ = try await f.queue.claim(limit: 1, owner: "b", lease: .seconds(5), now: now)  // older again
        try await f.queue.release(id: older.id, owner: "b", notBefore: now, countAttempt: false, lastError: nil)
        try f.sqlite("UPDATE reset_requests SET state = 'in_progress', lease_owner = 'c', lease_expires_at = '2000-01-01T00:00:00.000Z', intent_recorded = 1 WHERE id = '\(orphan.id)'")
        let next = try await f.queue.claim(limit: 2, owner: "d", lease: .seconds(5), now: now)
        #expect(next.map(\.id) == [orphan.id, older.id])
        #expect(next.first?.intentRecorded == true)
    }
}
