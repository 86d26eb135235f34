import Foundation
import RequestQueue
import Testing
import WritebackCore

/// The daemon's own store: replay ids until expiry, throttle counts, history with one salt per user.
@Suite("SQLite state store")
struct SQLiteStateStoreTests {
    static func store() throws -> (SQLiteStateStore, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)").path
        return (try SQLiteStateStore(path: dir + "/state.sqlite"), dir)
    }

    @Test("file mode is 0600, also narrowed when reopened")
    func mode() throws {
        let (s, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect((try FileManager.default.attributesOfItem(atPath: s.path)[.posixPermissions] as? Int) == 0o600)
        chmod(s.path, 0o644)
        _ = try SQLiteStateStore(path: s.path)
        #expect((try FileManager.default.attributesOfItem(atPath: s.path)[.posixPermissions] as? Int) == 0o600)
    }

    @Test("seen ids live until their expiry, then prune drops them")
    func replay() async throws {
        let (s, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let now = Date()
        try await s.markSeen(id: "a", until: now.addingTimeInterval(60))
        try await s.markSeen(id: "a", until: now.addingTimeInterval(30))  // never shortens
        #expect(try await s.hasSeen(id: "a"))
        #expect(try await !s.hasSeen(id: "b"))
        try await s.prune(now: now.addingTimeInterval(45))
        #expect(try await s.hasSeen(id: "a"))
        try await s.prune(now: now.addingTimeInterval(61))
        #expect(try await !s.hasSeen(id: "a"))
    }

    @Test("successes count per user in a window")
    func throttle() async throws {
        let (s, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let now = Date()
        for m in [0, 10, 50, 70] { try await s.recordSuccess(userDN: "uid=a", at: now.addingTimeInterval(-Double(m) * 60)) }
        try await s.recordSuccess(userDN: "uid=b", at: now)
        #expect(try await s.successCount(userDN: "uid=a", since: now.addingTimeInterval(-3600)) == 3)
        #expect(try await s.successCount(userDN: "uid=b", since: now.addingTimeInterval(-3600)) == 1)
    }

    @Test("history keeps the newest `keep` hashes, newest first; a new salt starts over")
    func history() async throws {
        let (s, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try await s.history(userDN: "u") == nil)
        let salt = Data("salt-1".utf8)
        for i in 0..<5 { try await s.appendHistory(userDN: "u", salt: salt, hash: Data([UInt8(i)]), keep: 3) }
        #expect(try await s.history(userDN: "u") == PasswordHistoryRecord(salt: salt, hashes: [Data([4]), Data([3]), Data([2])]))
        try await s.appendHistory(userDN: "u", salt: Data("salt-2".utf8), hash: Data([9]), keep: 3)
        #expect(try await s.history(userDN: "u") == PasswordHistoryRecord(salt: Data("salt-2".utf8), hashes: [Data([9])]))
    }
}
