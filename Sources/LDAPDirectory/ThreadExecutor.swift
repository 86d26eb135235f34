import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A serial executor backed by one dedicated OS thread. It exists because libldap calls block
/// (for up to `timeout_seconds`) and an `LDAP*` must stay on one thread: an actor whose
/// `unownedExecutor` is one of these runs all its methods on that thread, never on Swift's
/// cooperative pool.
///
/// It is also a `TaskExecutor` (SE-0417): a task that prefers it runs its nonisolated code on
/// the same thread, so a call into the connection's actor and the return from it are queue
/// pushes on a running thread instead of two OS wake-ups (the cost that kept the pool below
/// raw C on 2 cores).
///
/// `@unchecked Sendable` is sound here: the only mutable state, `jobs`, `stopping` and
/// `running`, is read and written exclusively while holding `condition` (an NSCondition);
/// `threadID` is an atomic; threads are never referenced after they start.
final class ThreadExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var running = false
    private let name: String
    /// `pthread_self()` of the current thread (0 before it starts), for `isCurrent`.
    private let threadID = Atomic<UInt>(0)

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
    func asUnownedTaskExecutor() -> UnownedTaskExecutor { UnownedTaskExecutor(ordinary: self) }

    /// Whether the caller runs on this executor's thread.
    var isCurrent: Bool { threadID.load(ordering: .relaxed) == UInt(pthread_self()) }

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
        threadID.store(UInt(pthread_self()), ordering: .relaxed)
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                running = false
                threadID.store(0, ordering: .relaxed)
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            // Actor jobs and jobs of tasks that prefer this executor alike: the thread is serial,
            // so running them isolated to it keeps the actor's exclusion.
            for job in batch { job.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor()) }
        }
    }
}
