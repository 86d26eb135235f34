import Synchronization

/// Lets the poller sleep until its next poll interval or until something worth a poll
/// happens (a worker became free, resume, shutdown), whichever comes first. A wake with
/// nobody waiting is remembered once, so it is never lost between two waits.
final class Waker: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func wake() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter { s.waiter = nil; return w }
            s.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns after `timeout` or at the first `wake()`. (A sleeper that fires just as a
    /// real wake arrives leaves one spare wake behind: at worst one extra poll.)
    func wait(timeout: Duration) async {
        let sleeper = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self.wake() }
        }
        await waitForWake()
        sleeper.cancel()
    }

    private func waitForWake() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                if s.pending { s.pending = false; return true }
                s.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
