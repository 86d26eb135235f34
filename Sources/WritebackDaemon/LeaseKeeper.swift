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
    /// One claim of a request: `drop` ends only the claim `hold` began, so a row given back and
    /// claimed again before the first claim's task has ended keeps its new lease.
    struct Hold: Sendable, Hashable {
        fileprivate let id: String
        fileprivate let claim: UInt64
    }

    /// Request id → (which claim, when it was claimed or last renewed).
    private let held = Mutex<(next: UInt64, table: [String: (claim: UInt64, since: ContinuousClock.Instant)])>((0, [:]))

    func hold(_ id: String) -> Hold {
        held.withLock { h in
            h.next += 1
            h.table[id] = (h.next, .now)
            return Hold(id: id, claim: h.next)
        }
    }

    func drop(_ hold: Hold) {
        held.withLock { h in if h.table[hold.id]?.claim == hold.claim { h.table[hold.id] = nil } }
    }

    /// The claims held for at least `age`.
    func due(olderThan age: Duration, now: ContinuousClock.Instant = .now) -> [Hold] {
        held.withLock { h in h.table.compactMap { now - $0.value.since >= age ? Hold(id: $0.key, claim: $0.value.claim) : nil } }
    }

    private func renewed(_ hold: Hold) {
        held.withLock { h in if h.table[hold.id]?.claim == hold.claim { h.table[hold.id] = (hold.claim, .now) } }
    }

    /// Renews until cancelled. `lease` is read at every round (a reload may change it).
    func run(queue: any RequestQueueStore, owner: String, logger: Logger, lease: @Sendable () -> Duration) async {
        while true {
            let lease = lease()
            do { try await Task.sleep(for: lease / 6) } catch { return }
            for hold in due(olderThan: lease / 3) {
                do {
                    try await queue.renewLease(id: hold.id, owner: owner, lease: lease, now: Date())
                    renewed(hold)
                } catch QueueError.notOwner {
                    drop(hold)   // recorded or given back meanwhile
                } catch {
                    logger.warning("cannot renew a request's lease; trying again", metadata: ["request_id": "\(hold.id)", "error": "\(error)"])
                }
            }
        }
    }
}
