import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A serial executor backed by one dedicated OS thread. It exists because libldap calls block
/// (for up to `timeout_seconds`) and an `LDAP*` must stay on one thread: an actor whose
/// `unownedExecutor` is one of these runs all its methods on that thread, never on Swift's
/// cooperative pool.
///
/// `@unchecked Sendable` is sound here: the only mutable state, `jobs`, `stopping` and
/// `running`, is read and written exclusively while holding `condition` (an NSCondition);
/// threads are never referenced after they start.
final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var running = false
    private let name: String

    init(name: String) {
        self.name = name
        condition.lock()
        startThread()
        condition.unlock()
    }

    /// Starts the thread; `condition` must be held. The thread holds the executor strongly
    /// until `shutdown()` lets its loop end.
    private func startThread() {
        running = true
        stopping = false
        let t = Thread { self.runLoop() }
        t.name = name
        t.stackSize = 1 << 20
        t.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        if !running { startThread() }   // used again after shutdown: never strand a job
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    /// Lets the thread end once its queue is empty.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        #if os(Linux)
        // The OS-level thread name (ps, gdb, tests); Foundation's Thread.name does not set it.
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        if fd >= 0 {
            let n = String(name.prefix(15))
            _ = n.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        #endif
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                running = false
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}
