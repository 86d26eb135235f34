import Crypto
import Foundation
import Logging
@testable import PostgresQueue
import RequestCodec
import RequestQueue
import Testing
import TestSupport
import WritebackCore

/// The PostgreSQL queue and state store against a real PostgreSQL server started by the test:
/// the same protocol as the SQLite queue (leases, intent, redaction, release, reads), claims
/// with FOR UPDATE SKIP LOCKED by concurrent daemons, a producer that inserts with psql.
@Suite("PostgreSQL queue and state store", .serialized)
struct PostgresQueueTests {
    static let logger = Logger(label: "test")
    let signing = Curve25519.Signing.PrivateKey()
    let sealing = Curve25519.KeyAgreement.PrivateKey()

    func row(user: String = "alice") throws -> (SignedRequest, String) {
        let pw = "Qp-" + UUID().uuidString.prefix(13) + "#9z"
        let sealer = RequestSealer(sealingPublicKey: sealing.publicKey, signingKey: signing)
        return (try sealer.build(RequestBuilder(kind: .reset, user: user, initiator: .admin(name: "t")), newPassword: Secret(pw)), pw)
    }

    @Test("claim, intent, complete with redaction, release, reads, prune: the SQLite queue's protocol")
    func protocolSemantics() async throws {
        try await withPostgres { pg in
            let queue = try await PostgresRequestQueue(url: pg.url, logger: Self.logger)
            let (first, password) = try row()
            try await queue.enqueue(id: first.id, payload: first.payload, signature: first.signature)
            await #expect(throws: QueueError.duplicateID(first.id)) {
                try await queue.enqueue(id: first.id, payload: first.payload, signature: first.signature)
            }
            let (second, _) = try row(user: "bob")
            let beforeSecond = Date()
            try await queue.enqueue(id: second.id, payload: second.payload, signature: second.signature)
            #expect(try await queue.counts()[.pending] == 2)
            #expect(try await queue.list(state: nil, limit: 50).map(\.id) == [second.id, first.id])

            let now = Date()
            let claimed = try await queue.claim(limit: 1, owner: "w1", lease: .seconds(30), now: now)
            #expect(claimed.map(\.id) == [first.id])
            #expect(claimed.first?.payload == first.payload && claimed.first?.signature == first.signature)
            #expect(try await queue.claim(limit: 5, owner: "w2", lease: .seconds(30), now: now).map(\.id) == [second.id])
            #expect(try await queue.claim(limit: 5, owner: "w3", lease: .seconds(30), now: now).isEmpty)

            try await queue.recordIntent(id: first.id, owner: "w1", stamp: "20261201000000Z")
            await #expect(throws: QueueError.notOwner(id: first.id)) { try await queue.recordIntent(id: first.id, owner: "w2", stamp: nil) }
            // A lease that ran out is claimed again, intent and stamp kept, before newer rows.
            let again = try await queue.claim(limit: 5, owner: "w4", lease: .seconds(30), now: now.addingTimeInterval(31))
            #expect(again.map(\.id) == [first.id, second.id])
            #expect(again.first?.intentRecorded == true && again.first?.intentStamp == "20261201000000Z")

            // Renewed at +45 for 30 s, the lease outlives +61 (where the claim at +31 ran out).
            try await queue.renewLease(id: first.id, owner: "w4", lease: .seconds(30), now: now.addingTimeInterval(45))
            await #expect(throws: QueueError.notOwner(id: first.id)) {
                try await queue.renewLease(id: first.id, owner: "w1", lease: .seconds(30), now: now.addingTimeInterval(45))
            }
            let afterRenewal = try await queue.claim(limit: 5, owner: "w6", lease: .seconds(1), now: now.addingTimeInterval(62))
            #expect(afterRenewal.map(\.id) == [second.id])
            try await queue.release(id: second.id, owner: "w6", notBefore: now, countAttempt: false, lastError: nil)
            // An intent recorded, then given back without a write: withdrawn when asked, kept otherwise.
            for withdraw in [false, true] {
                #expect(try await queue.claim(limit: 1, owner: "w7", lease: .seconds(30), now: now.addingTimeInterval(62)).map(\.id) == [second.id])
                try await queue.recordIntent(id: second.id, owner: "w7", stamp: "20261203000000Z")
                try await queue.release(id: second.id, owner: "w7", notBefore: now, countAttempt: false, lastError: nil, directory: nil,
                                        withdrawingIntent: withdraw)
                #expect(try pg.psql("SELECT intent_recorded || '|' || COALESCE(intent_stamp, 'none') FROM reset_requests WHERE id = '\(second.id)'")
                        == (withdraw ? "false|none" : "true|20261203000000Z"))
            }
            _ = try await queue.claim(limit: 1, owner: "w4", lease: .seconds(30), now: now.addingTimeInterval(62))

            try await queue.complete(id: first.id, owner: "w4", outcome: .succeeded, now: now.addingTimeInterval(32))
            let stored = try pg.psql("SELECT state || '|' || outcome || '|' || signature || '|' || payload FROM reset_requests WHERE id = '\(first.id)'")
            #expect(stored.hasPrefix("succeeded|succeeded||"))
            #expect(stored.contains("\"redacted\"") && !stored.contains(password))
            #expect(!stored.contains(String(decoding: first.payload, as: UTF8.self)))

            try await queue.release(id: second.id, owner: "w4", notBefore: now.addingTimeInterval(60), countAttempt: true, lastError: "busy")
            #expect(try await queue.claim(limit: 5, owner: "w5", lease: .seconds(30), now: now.addingTimeInterval(40)).isEmpty)
            #expect(try await queue.summary(id: second.id)?.attempts == 1)
            #expect(try pg.psql("SELECT last_error FROM reset_requests WHERE id = '\(second.id)'") == "busy")
            // `second` was queued between `beforeSecond` and `now` (seconds apart on a busy host).
            let oldest = try #require(try await queue.oldestPending(now: now.addingTimeInterval(100)))
            #expect(oldest > 99 && oldest < 101 + now.timeIntervalSince(beforeSecond), "\(oldest)")
            _ = try await queue.claim(limit: 5, owner: "w6", lease: .seconds(30), now: now.addingTimeInterval(61))
            try await queue.releaseAll(owner: "w6")
            #expect(try await queue.counts() == [.pending: 1, .inProgress: 0, .succeeded: 1, .rejected: 0, .failed: 0])
            #expect(try await queue.list(state: .succeeded, limit: 5).map(\.id) == [first.id])
            let summary = try #require(try await queue.summary(id: first.id))
            #expect(summary.state == .succeeded && summary.completedAt != nil)

            #expect(try await queue.pruneTerminal(now: Date().addingTimeInterval(31 * 86_400)) == 1)
            #expect(try await queue.summary(id: first.id) == nil)
            #expect(try await queue.appliedMigrations() == PostgresRequestQueue.schemaMigrations)
        }
    }

    @Test("one open intent per account across daemons: a second request for it waits until the first is settled")
    func userKey() async throws {
        try await withPostgres { pg in
            let queue = try await PostgresRequestQueue(url: pg.url, logger: Self.logger)
            var rows: [String] = []
            for _ in 0..<3 {
                let (request, _) = try row()
                try await queue.enqueue(id: request.id, payload: request.payload, signature: request.signature)
                rows.append(request.id)
                try await Task.sleep(for: .milliseconds(5))
            }
            let problems = try await UserKeyScenario.run(queue, rows: rows) { error, id in (error as? QueueError) == .userBusy(id: id) }
            #expect(problems == [])
        }
    }

    @Test("a producer inserting only id, payload, signature with psql makes a pending row the daemon claims")
    func psqlProducer() async throws {
        try await withPostgres { pg in
            let queue = try await PostgresRequestQueue(url: pg.url, logger: Self.logger)
            let (r, _) = try row()
            let payload = String(decoding: r.payload, as: UTF8.self).replacingOccurrences(of: "'", with: "''")
            try pg.psql("INSERT INTO reset_requests (id, payload, signature) VALUES ('\(r.id)', '\(payload)', '\(r.signature)')")
            #expect(try pg.psql("SELECT state FROM reset_requests") == "pending")
            let claimed = try await queue.claim(limit: 1, owner: "w", lease: .seconds(30), now: Date())
            #expect(claimed.first?.payload == r.payload, "the signature covers exactly the stored bytes")
        }
    }

    @Test("an operation is bounded: a fast one answers, a slow one fails at its limit, also one that ignores cancellation")
    func boundedOperations() async throws {
        #expect(try await PostgresDatabase.bounded(by: .seconds(5)) { 42 } == 42)
        await #expect(throws: PostgresDatabase.OperationTimedOut.self) {
            try await PostgresDatabase.bounded(by: .milliseconds(50)) { try await Task.sleep(for: .seconds(30)) }
        }
        await #expect(throws: PostgresDatabase.OperationTimedOut.self) {
            // Deaf to cancellation, as a pool lease that never came back was: unbounded, it would
            // return normally after 20 s.
            try await PostgresDatabase.bounded(by: .milliseconds(50)) {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 20) { c.resume() }
                }
            }
        }
        await #expect(throws: CancellationError.self) {
            try await PostgresDatabase.bounded(by: .seconds(5)) { throw CancellationError() }
        }
        // One watchdog for all: a short limit that arrives while it sleeps toward a long one
        // is kept within its `recheck`; the long one, finished early, is not timed out.
        let watchdog = OperationWatchdog(recheck: .milliseconds(100))
        let long = Task { try await PostgresDatabase.bounded(by: .seconds(300), watchdog: watchdog) { try await Task.sleep(for: .seconds(1)); return 7 } }
        try await Task.sleep(for: .milliseconds(20))
        let started = ContinuousClock.now
        await #expect(throws: PostgresDatabase.OperationTimedOut.self) {
            try await PostgresDatabase.bounded(by: .milliseconds(50), watchdog: watchdog) { try await Task.sleep(for: .seconds(30)) }
        }
        // Not the 300 s of the long one. Only that is asserted: under the full suite's load the
        // cooperative pool that runs the watchdog was seen 6.6 s late (0.1 s alone).
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(try await long.value == 7)
        // Many at once, each answered by its own work.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<200 { group.addTask { try await PostgresDatabase.bounded(by: .seconds(5), watchdog: watchdog) { i } } }
            var sum = 0
            for try await v in group { sum += v }
            #expect(sum == 199 * 200 / 2)
        }
    }

    @Test("claim skips rows routed to a busy directory (hostile names too); first claim only before any give-back")
    func skipBusyDirectories() async throws {
        try await withPostgres { pg in
            let queue = try await PostgresRequestQueue(url: pg.url, logger: Self.logger)
            var rows: [String] = []
            for i in 0..<4 {
                let (r, _) = try row(user: "u\(i)")
                try await queue.enqueue(id: r.id, payload: r.payload, signature: r.signature)
                rows.append(r.id)
            }
            let now = Date()
            let first = try await queue.claim(limit: 3, owner: "w", lease: .seconds(30), now: now)
            #expect(first.map(\.id) == Array(rows.prefix(3)) && first.allSatisfy(\.firstClaim))
            for (id, directory) in [(rows[0], "contoso"), (rows[1], "contoso"), (rows[2], #"o'x\"}"#)] {
                try await queue.release(id: id, owner: "w", notBefore: now, countAttempt: false, lastError: "busy", directory: directory,
                                        withdrawingIntent: false)
            }
            let skipping = try await queue.claim(limit: 2, owner: "w", lease: .seconds(30), now: now,
                                                 skippingDirectories: ["contoso", #"o'x\"}"#, "') OR 1=1 --"])
            #expect(skipping.map(\.id) == [rows[3]] && skipping[0].firstClaim)
            let again = try await queue.claim(limit: 5, owner: "w", lease: .seconds(30), now: now)
            #expect(again.map(\.id) == Array(rows.prefix(3)) && again.allSatisfy { !$0.firstClaim })
            try await queue.releaseAll(owner: "w")
            #expect(try pg.psql("SELECT count(*) FROM reset_requests WHERE last_error = 'given back when daemon w stopped'") == "1")
            let afterStop = try await queue.claim(limit: 5, owner: "v", lease: .seconds(30), now: now)
            #expect(afterStop.count == 4 && afterStop.allSatisfy { !$0.firstClaim })
        }
    }

    @Test("two daemons claiming concurrently (SKIP LOCKED) claim every row exactly once")
    func concurrentClaims() async throws {
        try await withPostgres { pg in
            let a = try await PostgresRequestQueue(url: pg.url, logger: Self.logger)
            let b = try await PostgresRequestQueue(url: pg.url, logger: Self.logger)   // migrates nothing: already there
            var ids = Set<String>()
            for i in 0..<120 {
                let (r, _) = try row(user: "u\(i)")
                try await a.enqueue(id: r.id, payload: r.payload, signature: r.signature)
                ids.insert(r.id)
            }
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for (queue, owner) in [(a, "A"), (b, "B"), (a, "A2"), (b, "B2")] {
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let batch = try await queue.claim(limit: 3, owner: owner, lease: .seconds(60), now: Date())
                            if batch.isEmpty { return mine }
                            for c in batch { try await queue.complete(id: c.id, owner: owner, outcome: .succeeded, now: Date()) }
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claimed.count == 120)
            #expect(Set(claimed) == ids)
            #expect(try await a.counts()[.succeeded] == 120)
        }
    }

    @Test("state store: replay ids, throttle counts, history (keep, new salt), prune")
    func stateStore() async throws {
        try await withPostgres { pg in
            let store = try await PostgresStateStore(url: pg.url, logger: Self.logger)
            let now = Date()
            #expect(try await store.hasSeen(id: "r1") == false)
            try await store.markSeen(id: "r1", until: now.addingTimeInterval(600))
            try await store.markSeen(id: "r1", until: now.addingTimeInterval(60))       // keeps the later expiry
            #expect(try await store.hasSeen(id: "r1"))
            for t in [-7200.0, -1800, -60] { try await store.recordSuccess(userDN: "uid=a", at: now.addingTimeInterval(t)) }
            #expect(try await store.successCount(userDN: "uid=a", since: now.addingTimeInterval(-3600)) == 2)
            #expect(try await store.successCount(userDN: "uid=b", since: now.addingTimeInterval(-3600)) == 0)

            #expect(try await store.history(userDN: "uid=a") == nil)
            let salt = Data(repeating: 1, count: 16)
            for i in 1...5 { try await store.appendHistory(userDN: "uid=a", salt: salt, hash: Data([UInt8(i)]), keep: 3) }
            #expect(try await store.history(userDN: "uid=a") == PasswordHistoryRecord(salt: salt, hashes: [Data([5]), Data([4]), Data([3])]))
            let newSalt = Data(repeating: 2, count: 16)
            try await store.appendHistory(userDN: "uid=a", salt: newSalt, hash: Data([9]), keep: 3)
            #expect(try await store.history(userDN: "uid=a") == PasswordHistoryRecord(salt: newSalt, hashes: [Data([9])]))

            try await store.prune(now: now.addingTimeInterval(700))
            #expect(try await store.hasSeen(id: "r1") == false)
            #expect(try await store.successCount(userDN: "uid=a", since: .distantPast) == 3, "successes are kept for a day")
            try await store.prune(now: now.addingTimeInterval(86_400 - 3000))
            #expect(try await store.successCount(userDN: "uid=a", since: .distantPast) == 2, "the one older than a day is gone")
            #expect(try await store.appliedMigrations() == PostgresStateStore.schemaMigrations)
        }
    }

    @Test("URLs: no password, loopback may skip TLS, anything else verifies; PGPASSFILE gives the password")
    func urls() async throws {
        for bad in ["postgres://u:secret@db.example.org/q", "postgres://db.example.org/", "mysql://db/q",
                    "postgres://u@db.example.org/q?sslmode=disable", "postgres://u@db/q?sslmode=maybe"] {
            await #expect(throws: (any Error).self, "\(bad)") { _ = try await PostgresRequestQueue(url: bad, logger: Self.logger) }
        }
        // The refusal names the URL, but never the password in it.
        #expect(throws: PostgresStoreError.self) { try PostgresLocation.parse("postgres://u:secret@db.example.org/q") }
        do { _ = try PostgresLocation.parse("postgres://u:secret@db.example.org/q") } catch {
            #expect(!"\(error)".contains("secret") && "\(error)".contains("db.example.org"), "\(error)")
        }
        let remote = try PostgresLocation.parse("postgres://svc@db.example.org:6432/queue")
        #expect(remote.tls == .verifyFull && remote.port == 6432 && remote.database == "queue" && remote.user == "svc")
        #expect(try PostgresLocation.parse("postgres://svc@127.0.0.1/queue").tls == .disable)
        #expect(try PostgresLocation.parse("postgres://svc@/queue?host=/run/postgresql").socketDirectory == "/run/postgresql")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/pgpass"
        // A fixture password made now, deleted with the directory.
        let secret = "pw:" + UUID().uuidString
        let escaped = secret.replacingOccurrences(of: ":", with: "\\:")
        let text = "# comment\nother.example.org:*:*:svc:nope\ndb.example.org:6432:queue:svc:\(escaped)\n*:*:*:*:fallback\n"
        _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        #expect(try PostgresLocation.passfilePassword(file, for: remote) == secret)
        #expect(try PostgresLocation.passfilePassword(file, for: PostgresLocation.parse("postgres://x@127.0.0.1/q")) == "fallback")
        #expect(throws: PostgresStoreError.self) { try PostgresLocation.passfilePassword(dir + "/missing", for: remote) }
    }
}
