import Dispatch

/// A serial executor on a private dispatch queue, for `AuditWriter`: appends and fsyncs block,
/// and must not hold a thread of Swift's cooperative pool (the pattern of Outbox's QueueExecutor).
final class AuditExecutor: SerialExecutor {
    let queue = DispatchQueue(label: "writebackd.audit")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
