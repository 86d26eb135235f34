import Foundation
import GRDB
@testable import RequestQueue
import Testing

/// Every commit of the queue and the state store must be on disk when it returns (the intent
/// before its directory write). GRDB's pool sets its writer to `synchronous = NORMAL` when it
/// switches to WAL, after the configuration's own pragmas: the stores must set FULL afterwards.
@Suite("SQLite commit durability")
struct CommitDurabilityTests {
    static func dir() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("durability-\(UUID().uuidString)").path
    }

    static func writerSynchronous(_ pool: DatabasePool) throws -> Int {
        try pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
    }

    @Test("the queue's writer commits with synchronous = FULL, also when reopened")
    func queue() throws {
        let dir = Self.dir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try Self.writerSynchronous(SQLiteRequestQueue(path: dir + "/queue.sqlite").pool) == 2)
        #expect(try Self.writerSynchronous(SQLiteRequestQueue(path: dir + "/queue.sqlite").pool) == 2)
    }

    @Test("the state store's writer commits with synchronous = FULL")
    func stateStore() throws {
        let dir = Self.dir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try Self.writerSynchronous(SQLiteStateStore(path: dir + "/state.sqlite").pool) == 2)
    }

    @Test("what GRDB does on its own: NORMAL (the reason for requireFullSync)")
    func grdbDefault() throws {
        let dir = Self.dir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var config = Configuration()
        config.prepareDatabase { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        #expect(try Self.writerSynchronous(DatabasePool(path: dir + "/plain.sqlite", configuration: config)) == 1)
    }
}
