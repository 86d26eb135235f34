import Dispatch
import GRDB
import Synchronization

/// Group commit for one SQLite file: write operations that arrive while a commit is in
/// flight share the next transaction, so N workers recording intents and outcomes at once
/// pay for one fsync (`synchronous = FULL`) instead of N. Each operation runs in its own
/// savepoint inside the batch: one that throws (a row no longer held) is rolled back alone
/// and gets its own error; the others commit. Every caller returns only after the commit that
/// holds its operation is durable, so "recorded before the directory write" still holds.
///
/// Measured (`make bench`, drain): the daemon's queue writes were one `BEGIN IMMEDIATE …
/// COMMIT` (one fsync) per step per request; with four workers they now share commits.
final class GroupCommit: Sendable {
    private struct Entry: Sendable {
        /// Runs the operation inside the batch's transaction and keeps its result.
        let run: @Sendable (Database) -> Void
        /// Called after the batch: nil when the commit succeeded, else the commit's error.
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var entries: [Entry] = []
        var running = false
    }

    private let pool: DatabasePool
    private let state = Mutex(State())

    init(pool: DatabasePool) { self.pool = pool }

    /// Runs `body` in the next group transaction and returns its result once committed.
    func perform<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let entry = Entry(
                run: { db in
                    do {
                        var value: T?
                        try db.inSavepoint {
                            value = try body(db)
                            return .commit
                        }
                        let v = value!
                        result.withLock { $0 = .success(v) }
                    } catch {
                        result.withLock { $0 = .failure(error) }
                    }
                },
                finish: { commitError in
                    if let commitError { continuation.resume(throwing: commitError); return }
                    let r = result.withLock { $0 } ?? .failure(CancellationError())
                    continuation.resume(with: r)
                })
            let lead = state.withLock { s -> Bool in
                s.entries.append(entry)
                if s.running { return false }
                s.running = true
                return true
            }
            if lead { queue.async { self.drain() } }
        }
    }

    /// Where batches are committed: a thread of its own, which blocks in the commit's fsync.
    /// The commit is GRDB's synchronous write, which runs on this thread when the writer is
    /// free: one thread switch per batch. As a Task awaiting GRDB's async write it was three
    /// (to the cooperative pool, to the writer's queue, back), and the drain profile put a
    /// fifth of the daemon's CPU in the kernel's scheduler and futexes.
    private let queue = DispatchQueue(label: "writebackd.group-commit")

    /// Commits batches until none is waiting. Only one drain runs at a time.
    private func drain() {
        while true {
            let batch = state.withLock { s -> [Entry] in
                let b = s.entries
                s.entries = []
                if b.isEmpty { s.running = false }
                return b
            }
            if batch.isEmpty { return }
            do {
                try pool.writeWithoutTransaction { db in
                    try db.inTransaction(.immediate) {
                        for entry in batch { entry.run(db) }
                        return .commit
                    }
                }
                for entry in batch { entry.finish(nil) }
            } catch {
                for entry in batch { entry.finish(error) }
            }
        }
    }
}
