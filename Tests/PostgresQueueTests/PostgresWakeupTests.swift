import Crypto
import Foundation
import Logging
@testable import PostgresQueue
import RequestCodec
import Synchronization
import Testing
import TestSupport
import WritebackCore

/// LISTEN/NOTIFY and the owner view on a real PostgreSQL server: the schema's trigger makes a
/// plain psql INSERT notify the channel (the default one and a configured one), the listener
/// wakes on it, reports `.poll` while the server restarts and `.notify` again afterwards; lease
/// holdings, `requests --owner` and the next due moment read what the rows say.
@Suite("PostgreSQL wake-ups and owners", .serialized)
struct PostgresWakeupTests {
    static let logger = Logger(label: "test")

    final class Wakes: Sendable {
        let count = Atomic<Int>(0)
        func wake() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    static func waitFor(_ timeout: TimeInterval, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    static func insert(_ pg: PostgresServer, _ id: String) throws {
        try pg.psql("INSERT INTO reset_requests (id, payload, signature) VALUES ('\(id)', '{}', 'c2ln')")
    }

    @Test("a plain INSERT notifies the listeners of the default and of a configured channel; a restart is survived")
    func listenNotifyRestart() async throws {
        try await withPostgres { pg in
            let queue = try await PostgresRequestQueue(url: pg.url, logger: Self.logger)
            let other = try await PostgresRequestQueue(url: pg.url, notifyChannel: "wb_site2", logger: Self.logger)
            #expect(try pg.psql("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'reset_requests_notify%'") == "2")
            let listeners = [queue.wakeSource(logger: Self.logger), other.wakeSource(logger: Self.logger)]
            let wakes = [Wakes(), Wakes()]
            let tasks = (0..<2).map { i in Task { await listeners[i].run { wakes[i].wake() } } }
            defer { tasks.forEach { $0.cancel() } }
            #expect(await Self.waitFor(20) { listeners.allSatisfy { $0.current == .notify } })
            // Each (re)connect wakes once, for what came in while nobody listened.
            #expect(await Self.waitFor(5) { wakes.allSatisfy { $0.value >= 1 } })
            let before = wakes.map(\.value)
            try Self.insert(pg, "n1")
            #expect(await Self.waitFor(10) { wakes[0].value > before[0] && wakes[1].value > before[1] }, "\(wakes.map(\.value)) after \(before)")

            try pg.restart()
            #expect(await Self.waitFor(40) { listeners.allSatisfy { $0.current == .notify } && wakes[0].value > before[0] + 1 })
            let again = wakes.map(\.value)
            try Self.insert(pg, "n2")
            #expect(await Self.waitFor(10) { wakes[0].value > again[0] && wakes[1].value > again[1] })
            tasks.forEach { $0.cancel() }
            for t in tasks { await t.value }
            #expect(listeners.allSatisfy { $0.current == .poll })
            // "" is poll only: no listener at all.
            let quiet = try await PostgresRequestQueue(url: pg.url, notifyChannel: "", logger: Self.logger)
            #expect(quiet.wakeSource(logger: Self.logger).current == .poll)
        }
    }

    @Test("owners: holdings per lease owner, requests by owner prefix, completed_by, the next due moment")
    func owners() async throws {
        try await withPostgres { pg in
            let queue = try await PostgresRequestQueue(url: pg.url, logger: Self.logger)
            for id in ["a", "b", "c", "d"] {
                try Self.insert(pg, id)
                try await Task.sleep(for: .milliseconds(2))
            }
            let now = Date()
            #expect(try await queue.claim(limit: 2, owner: "hostA:11:aaaa", lease: .seconds(30), now: now).map(\.id) == ["a", "b"])
            #expect(try await queue.claim(limit: 1, owner: "hostB:22:bbbb", lease: .seconds(60), now: now).map(\.id) == ["c"])
            let holdings = try await queue.holdings(idsPerOwner: 1)
            #expect(holdings.map(\.owner) == ["hostA:11:aaaa", "hostB:22:bbbb"] && holdings.map(\.count) == [2, 1])
            #expect(holdings[0].ids == ["a"])
            #expect(abs((holdings[0].earliestExpiry ?? .distantPast).timeIntervalSince(now) - 30) < 0.01)
            try await queue.complete(id: "a", owner: "hostA:11:aaaa", outcome: Outcome(.succeeded), now: now)
            #expect(try await queue.list(state: nil, owner: "hostA:11:aaaa", limit: 10).map(\.id) == ["b", "a"])
            #expect(try await queue.list(state: .succeeded, owner: "hostA:11", limit: 10).map(\.id) == ["a"])
            #expect(try await queue.list(state: nil, owner: "hostB", limit: 10).map(\.id) == ["c"])
            #expect(try await queue.list(state: nil, owner: "%", limit: 10).isEmpty)
            #expect(try await queue.summary(id: "a")?.owner == "hostA:11:aaaa")
            #expect(try await queue.summary(id: "d")?.owner == nil)
            #expect(abs((try await queue.nextDue(now: now) ?? .distantPast).timeIntervalSince(now) - 30) < 0.01)
            try await queue.release(id: "c", owner: "hostB:22:bbbb", notBefore: now.addingTimeInterval(5), countAttempt: true, lastError: nil)
            #expect(abs((try await queue.nextDue(now: now) ?? .distantPast).timeIntervalSince(now) - 5) < 0.01)
            #expect(try await queue.nextDue(now: now.addingTimeInterval(100)) == nil)
        }
    }
}
