import Synchronization

/// Abandons operations that outlive their limit, for every PostgreSQL store of the process, with
/// one task. It exists because a timer task per operation was measurable: a timer and a
/// forwarding task for each statement cost about 0.4 ms of pick-up (`make bench` pickup). This
/// one sleeps until the earliest deadline (at most `recheck` at a time, so a shorter limit that
/// arrives while it sleeps is seen soon), and parks while nothing is watched, so an idle daemon
/// never wakes for it.
final class OperationWatchdog: Sendable {
    typealias Instant = ContinuousClock.Instant

    /// The one the stores share.
    static let shared = OperationWatchdog()

    /// The longest the watchdog sleeps before it looks again.
    let recheck: Duration

    private struct Watched {
        let deadline: Instant
        let expire: @Sendable () -> Void
    }

    private struct State {
        var watched: [UInt64: Watched] = [:]
        var nextID: UInt64 = 0
        /// The watchdog's task, parked because nothing was watched.
        var parked: CheckedContinuation<Void, Never>?
        var started = false
    }

    private let state = Mutex(State())

    init(recheck: Duration = .seconds(1)) { self.recheck = recheck }

    /// Calls `expire` once `deadline` has passed, unless `unwatch` came first. Returns the key
    /// for `unwatch`.
    func watch(until deadline: Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, wake, start) = state.withLock { s in
            let id = s.nextID
            s.nextID &+= 1
            s.watched[id] = Watched(deadline: deadline, expire: expire)
            let start = !s.started
            s.started = true
            return (id, s.parked.take(), start)
        }
        wake?.resume()
        if start { Task.detached(priority: .high) { [self] in await self.patrol() } }
        return id
    }

    /// The operation ended in time: nothing is called for it.
    func unwatch(_ id: UInt64) {
        _ = state.withLock { $0.watched.removeValue(forKey: id) }
    }

    /// The watchdog's loop; it lives as long as the process (parked when idle).
    private func patrol() async {
        while true {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let goOn = state.withLock { s in
                    if s.watched.isEmpty { s.parked = continuation; return false }
                    return true
                }
                if goOn { continuation.resume() }
            }
            let now = ContinuousClock.now
            let (expired, earliest) = state.withLock { s in
                let due = s.watched.filter { $0.value.deadline <= now }
                for id in due.keys { s.watched.removeValue(forKey: id) }
                return (due.values.map(\.expire), s.watched.values.map(\.deadline).min())
            }
            for expire in expired { expire() }
            guard let earliest else { continue }
            try? await Task.sleep(for: min(earliest - now, recheck))
        }
    }
}

/// The meeting point of an abandonable operation and its caller: whichever of the operation's
/// result, the watchdog's timeout or the caller's cancellation comes first is the answer; the
/// others find it taken. The result may come before the caller waits for it.
final class OperationRendezvous<T: Sendable>: Sendable {
    private enum Stage {
        case open
        case waiting(CheckedContinuation<T, any Error>)
        case answered(Result<T, any Error>)
        case done
    }

    private let stage = Mutex(Stage.open)

    init() {}

    /// The caller waits here for the first answer.
    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        let ready: Result<T, any Error>? = stage.withLock { s in
            switch s {
            case .answered(let result):
                s = .done
                return result
            case .open:
                s = .waiting(continuation)
                return nil
            case .waiting, .done:
                preconditionFailure("an operation is waited for once")
            }
        }
        if let ready { continuation.resume(with: ready) }
    }

    /// An answer; only the first counts.
    func answer(_ result: Result<T, any Error>) {
        let waiting: CheckedContinuation<T, any Error>? = stage.withLock { s in
            switch s {
            case .open:
                s = .answered(result)
                return nil
            case .waiting(let continuation):
                s = .done
                return continuation
            case .answered, .done:
                return nil
            }
        }
        waiting?.resume(with: result)
    }
}
