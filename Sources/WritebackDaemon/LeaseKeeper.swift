import Foundation
import Logging
import RequestQueue
import Synchronization
import WritebackCore

/// Keeps the leases of the requests this daemon is working on, so a request slower than its
/// lease (a slow DC, a long readback) is never claimed a second time while it is still being
/// worked on. One loop for all of them: a request is only entered and removed here. (Each
/// request used to start a task that slept a third of the lease and was cancelled when the
/// request ended, microseconds later in nearly every case: a task, a timer and a wake-up per
/// request, for a renewal that almost never happened.)
///
/// The loop wakes every sixth of the lease and renews each request held for at least a third
/// of it, so a lease is renewed between a third and a half of the way through, never at its end.
final class LeaseKeeper: Sendable {
    /// Request id → when it was claimed or last renewed.
    private let held = Mutex<[String: ContinuousClock.Instant]>([:])

    func hold(_ id: String) { held.withLock { $0[id] = .now } }
    func drop(_ id: String) { _ = held.withLock { $0.removeValue(forKey: id) } }

    /// The ids held for at least `age`.
    func due(olderThan age: Duration, now: ContinuousClock.Instant = .now) -> [String] {
        held.withLock { table in table.compactMap { now - $0.value >= age ? $0.key : nil } }
    }

    /// Renews until cancelled. `lease` is read at every round (a reload may change it).
    func run(queue: any RequestQueueStore, owner: String, logger: Logger, lease: @Sendable () -> Duration) async {
        while true {
            let lease = lease()
            do { try await Task.sleep(for: lease / 6) } catch { return }
            for id in due(olderThan: lease / 3) {
                do {
                    try await queue.renewLease(id: id, owner: owner, lease: lease, now: Date())
                    held.withLock { table in if table[id] != nil { table[id] = .now } }
                } catch QueueError.notOwner {
                    drop(id)   // recorded or given back meanwhile
                } catch {
                    logger.warning("cannot renew a request's lease; trying again", metadata: ["request_id": "\(id)", "error": "\(error)"])
                }
            }
        }
    }
}
