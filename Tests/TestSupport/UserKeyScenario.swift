import Foundation
import WritebackCore

/// One account, two daemons, one queue: the intent guard both queue backends must keep
/// (`RequestQueueStore.recordIntent`'s `userKey`). Run by the SQLite and the PostgreSQL suites
/// against their real stores; returns what went wrong, empty when nothing did.
public enum UserKeyScenario {
    /// `rows`: three pending request ids, oldest first. `isUserBusy`: whether an error is the
    /// backend's `QueueError.userBusy` for that id.
    public static func run(_ queue: any RequestQueueStore, rows: [String], isUserBusy: @Sendable (any Error, String) -> Bool) async throws -> [String] {
        precondition(rows.count == 3)
        let (a, b, c) = (rows[0], rows[1], rows[2])
        let now = Date()
        var problems: [String] = []
        func expectBusy(_ id: String, _ owner: String, _ key: String, _ when: String) async {
            do {
                try await queue.recordIntent(id: id, owner: owner, stamp: nil, userKey: key)
                problems.append("\(when): \(id)'s intent was recorded while another row held \(key)")
            } catch {
                if !isUserBusy(error, id) { problems.append("\(when): \(error), not userBusy") }
            }
        }
        guard try await queue.claim(limit: 1, owner: "d1", lease: .seconds(30), now: now).map(\.id) == [a],
              try await queue.claim(limit: 2, owner: "d2", lease: .seconds(30), now: now).map(\.id) == [b, c]
        else { return ["claims did not hand out the rows oldest first"] }

        try await queue.recordIntent(id: a, owner: "d1", stamp: "s1", userKey: "dir|uid=u,dc=x")
        await expectBusy(b, "d2", "dir|uid=u,dc=x", "a's write in progress")
        try await queue.recordIntent(id: c, owner: "d2", stamp: nil, userKey: "dir|uid=v,dc=x")   // another account: no wait
        // a's write timed out (outcome unknown): given back with its intent, it still holds the account.
        try await queue.release(id: a, owner: "d1", notBefore: now, countAttempt: true, lastError: "timeout", directory: nil,
                                withdrawingIntent: false)
        await expectBusy(b, "d2", "dir|uid=u,dc=x", "a given back, outcome unknown")
        // Settled (claimed again, intent rows first, and recorded): the account is free.
        guard try await queue.claim(limit: 1, owner: "d1", lease: .seconds(30), now: now).map(\.id) == [a]
        else { return problems + ["a (intent recorded) was not claimed again first"] }
        try await queue.complete(id: a, owner: "d1", outcome: .succeeded, directory: nil, now: now)
        try await queue.recordIntent(id: b, owner: "d2", stamp: nil, userKey: "dir|uid=u,dc=x")
        // An intent withdrawn (given back before any write) frees the account at once.
        try await queue.release(id: b, owner: "d2", notBefore: now, countAttempt: false, lastError: nil, directory: nil,
                                withdrawingIntent: true)
        try await queue.release(id: c, owner: "d2", notBefore: now, countAttempt: false, lastError: nil, directory: nil,
                                withdrawingIntent: true)
        guard try await queue.claim(limit: 2, owner: "d1", lease: .seconds(30), now: now).map(\.id) == [b, c]
        else { return problems + ["b and c were not pending again"] }
        try await queue.recordIntent(id: c, owner: "d1", stamp: nil, userKey: "dir|uid=u,dc=x")
        await expectBusy(b, "d1", "dir|uid=u,dc=x", "c holds the account")   // the same daemon too: two spellings of one user
        return problems
    }
}
