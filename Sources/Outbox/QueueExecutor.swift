import Dispatch

/// A serial executor backed by a private dispatch queue.
///
/// The outbox fsyncs files and waits for a sendmail child process: blocking calls that must not
/// occupy a thread of Swift's cooperative pool (two cores are shared by everything in the
/// daemon). An actor whose `unownedExecutor` is one of these runs all its code on its own
/// thread, so the blocking happens there, serialised, and callers simply `await`.
final class QueueExecutor: SerialExecutor {
    let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
