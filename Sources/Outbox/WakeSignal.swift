import Synchronization

/// Wakes the deliverer's loop early: when the writer has published a message (`signal`), or
/// when the daemon shuts down (`stop`). A signal that arrives while nobody waits is kept, so
/// none is lost between two waits; a spurious one only costs an extra scan of `new/`.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var stopped = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else { state.pending = true; return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func stop() {
        state.withLock { $0.stopped = true }
        signal()
    }

    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Returns at the next signal, after `timeout`, or when the task is cancelled.
    func wait(timeout: Duration) async {
        let timer = Task {
            do {
                try await Task.sleep(for: timeout)
                self.signal()
            } catch {}
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.pending || state.stopped {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.signal()
        }
    }
}
