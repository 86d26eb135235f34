import Synchronization
import WritebackCore

/// One configured directory as the pipeline uses it: its name, its own connection pool (with
/// its fail-over and health), and how many requests may be at it at once. Exists so that one
/// directory being slow or down never holds another's requests (no head-of-line blocking): a
/// request routed to a full lane, or to a down lane that is already being probed, goes back
/// to the queue at once, without an attempt, instead of occupying a worker the other
/// directories need. Requests of a down lane thus wait in the queue; one of them at a time
/// probes the directory until it answers.
final class DirectoryLane: Sendable {
    let name: String
    let directory: any PasswordDirectory
    /// Requests at this directory at once: its `connections`.
    let capacity: Int
    private let slots: Mutex<(free: [Int], probing: Bool)>

    init(name: String, directory: any PasswordDirectory, capacity: Int) {
        self.name = name; self.directory = directory; self.capacity = max(1, capacity)
        slots = Mutex((Array((0..<max(1, capacity)).reversed()), false))
    }

    /// Whether a request may go to the directory now.
    enum Admission: Sendable, Equatable {
        /// Yes, on connection slot `slot` (its thread is preferred); `probe`: the directory is
        /// down and this request finds out whether it is back.
        case admitted(slot: Int, probe: Bool)
        /// Every slot is taken: try again shortly.
        case busy
        /// Down, and another request is probing it already.
        case down
    }

    func admit(directoryDown: Bool) -> Admission {
        slots.withLock { s in
            if directoryDown && s.probing { return .down }
            guard let slot = s.free.popLast() else { return .busy }
            if directoryDown { s.probing = true }
            return .admitted(slot: slot, probe: directoryDown)
        }
    }

    /// Gives back what `admit` handed out.
    func leave(_ admission: Admission) {
        guard case .admitted(let slot, let probe) = admission else { return }
        slots.withLock { s in
            s.free.append(slot)
            if probe { s.probing = false }
        }
    }

    /// Requests at the directory now.
    var inFlight: Int { slots.withLock { capacity - $0.free.count } }
}
