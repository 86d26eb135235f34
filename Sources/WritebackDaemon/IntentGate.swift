import Synchronization

/// Holds a claimed batch's other requests until each of its intent rows (a write that may have
/// happened) has taken its user's lock. The claim hands out intent rows first so that their
/// fate is decided before any later request for the same user is written; with many requests
/// in flight on several threads, a later request could otherwise reach the user's lock first
/// and write, and the earlier write, found by its readback only afterwards, would be refused
/// as a reuse. Intent rows are rare (after a crash or a timed-out write), so a batch almost
/// never has a gate; the wait is one signature check and a routing decision, not a directory
/// call.
final class IntentGate: Sendable {
    private let state: Mutex<(remaining: Int, waiters: [CheckedContinuation<Void, Never>])>

    /// A gate for a batch with `intentRows` intent rows.
    init(intentRows: Int) { state = Mutex((max(0, intentRows), [])) }

    /// An intent row has its user's lock, or has finished without taking it.
    func arrive() {
        let released = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard s.remaining > 0 else { return [] }
            s.remaining -= 1
            guard s.remaining == 0 else { return [] }
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in released { waiter.resume() }
    }

    /// Returns once every intent row of the batch has arrived.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = state.withLock { s -> Bool in
                if s.remaining == 0 { return true }
                s.waiters.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
    }
}
