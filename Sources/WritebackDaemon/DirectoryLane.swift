import Synchronization
import WritebackCore

/// One configured directory as the pipeline uses it: its name, its own connection pool (with
/// its fail-over and health), and how many requests may be at it at once. Exists so that one
/// directory being slow or down never holds another's requests (no head-of-line blocking): a
/// request routed to a full lane, or to a down lane that is already being probed, goes back
/// to the queue at once, without an attempt, instead of occupying a worker the other
/// directories need. Requests of a down lane thus wait in the queue; one of them at a time
/// probes the directory until it answers.
///
/// A request holds its lane slot from routing until its outcome is durable, but uses a
/// connection only for its lookup, write and readback (well under a millisecond each on a
/// healthy directory); the rest is signature checks and commits. So a lane admits
/// `requestsPerConnection` requests per connection, and the pool queues their directory calls
/// on the connections: the commits of many requests share one fsync (group commit) instead of
/// four requests' commits at a time.
final class DirectoryLane: Sendable {
    /// Requests in flight per directory connection (`PipelineDepth`).
    static var requestsPerConnection: Int { PipelineDepth.standard }

    let name: String
    let directory: any PasswordDirectory
    /// Requests at this directory at once: `connections × requestsPerConnection`.
    let capacity: Int
    private let slots: Mutex<(free: [Int], probing: Bool)>

    /// A lane for a directory with `connections` connections.
    convenience init(name: String, directory: any PasswordDirectory, connections: Int, requestsPerConnection: Int = requestsPerConnection) {
        self.init(name: name, directory: directory, capacity: max(1, connections) * max(1, requestsPerConnection))
    }

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

    /// Whether `admit` would turn a request away now (every slot taken, or down and being
    /// probed): the poller then leaves this directory's routed rows in the queue.
    func refuses(directoryDown: Bool) -> Bool {
        slots.withLock { s in s.free.isEmpty || (directoryDown && s.probing) }
    }

    /// Requests at the directory now.
    var inFlight: Int { slots.withLock { capacity - $0.free.count } }
}

/// How many requests the daemon keeps in flight per directory connection. Public so the bench
/// labels its figures with the depth the daemon it starts will use.
public enum PipelineDepth {
    /// Measured (`make bench`, drain, release, 4 connections, against 1 per connection in the
    /// same run): README "Bench, faults, fuzz". 16 against 8, `drain-compare` (4 rounds of
    /// 5,000, ABBA, one build): 1.20x the rate at 0.88x the CPU per request on a journaled
    /// ext4, 1.09x at 0.92x on this host's journal-less one. The outbox's and SQLite's group
    /// commits take whatever waits: twice the requests in flight share each fsync.
    public static let standard = 16

    /// `standard`, or `WRITEBACKD_REQUESTS_PER_CONNECTION` (1–64) where set: the bench's knob
    /// for measuring the depth (1 is round 1's one request per connection).
    public static func perConnection(environment: [String: String]) -> Int {
        environment["WRITEBACKD_REQUESTS_PER_CONNECTION"].flatMap(Int.init).map { min(64, max(1, $0)) } ?? standard
    }
}
