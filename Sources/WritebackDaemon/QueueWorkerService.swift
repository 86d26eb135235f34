import Foundation
import Logging
import RequestQueue
import ServiceLifecycle
import Synchronization
import WritebackCore

/// The poller and its workers: claims at most as many rows as there are free workers
/// (`DirectoryLane.requestsPerConnection` per directory connection, summed over the
/// directories), runs each through the pipeline, and polls again as soon as a worker is free
/// or the poll interval has passed. Worker slot i runs its request as a task that prefers
/// connection i mod `connections`'s thread (`PasswordDirectory.taskExecutor(forWorker:)`), so
/// the pipeline's directory calls do not hop threads. Paused: claims nothing. While no directory
/// answers: one probe request at a time, so an outage costs neither attempts nor CPU.
///
/// Pick-up is event-driven: the queue's wake source (PostgreSQL NOTIFY, inotify on the SQLite
/// file) wakes the poller the moment a row is inserted, and the poll is the safety net:
/// `poll_interval_ms` while no event source listens, at least `eventSafetyPoll` while one
/// does. A wait longer than a second is cut to the queue's next due moment (a backoff's
/// `not_before`, a lease running out), so neither waits for the safety-net poll.
///
/// Graceful shutdown (SIGTERM) stops claiming and lets the requests in flight finish and be
/// recorded; then every row this daemon still holds goes back to `pending`.
public final class QueueWorkerService: Service, Sendable {
    let processor: RequestProcessor
    let queue: any RequestQueueStore
    let state: DaemonState
    let systemd: SystemdNotifier
    let logger: Logger
    let workers: Int
    let waker = Waker()
    /// What wakes the poller before its interval is up.
    let wakeSource: any QueueWakeSource
    /// Free worker slots; `workers - count` requests are in flight.
    private let freeSlots: Mutex<[Int]>
    private let stopping = Atomic<Bool>(false)
    /// The leases of the requests in flight.
    let leases = LeaseKeeper()

    init(processor: RequestProcessor, queue: any RequestQueueStore, state: DaemonState, systemd: SystemdNotifier, logger: Logger, workers: Int,
         wakeSource: any QueueWakeSource = PollOnlyWakeSource()) {
        self.processor = processor; self.queue = queue; self.state = state; self.systemd = systemd
        self.logger = logger; self.workers = max(1, workers); self.wakeSource = wakeSource
        freeSlots = Mutex(Array((0..<max(1, workers)).reversed()))
    }

    private var inFlight: Int { workers - freeSlots.withLock { $0.count } }

    /// The safety-net poll while NOTIFY or inotify is in force (`poll_interval_ms` when that is
    /// longer). Measured (`make bench`, pickup): the PostgreSQL daemon's idle CPU was 0.58 % of
    /// a core at a 500 ms poll with LISTEN healthy, one claim query per poll.
    static let eventSafetyPoll = Duration.seconds(5)

    /// Wakes the poller now (after resume, or when a worker is free).
    public func poke() { waker.wake() }

    /// Runs `request` through the pipeline while `leases` keeps its lease, until it is
    /// recorded or given back (the row is then no longer held).
    func processHoldingLease(_ request: ClaimedRequest, gate: IntentGate? = nil) async {
        let hold = leases.hold(request.id)
        defer { leases.drop(hold) }
        if request.intentRecorded {
            var lockTaken: (@Sendable () -> Void)?
            if let gate { lockTaken = { gate.arrive() } }
            await processor.process(request, lockTaken: lockTaken)
        } else {
            await gate?.wait()
            await processor.process(request)
        }
    }

    /// The directories whose rows the next claim leaves in the queue: with several, those that
    /// would turn a request away now. Without this, a busy directory's older rows were
    /// claimed, refused and given back ahead of another directory's newer rows round after
    /// round; when commits are slow (CI measured fsyncs of seconds) that held the other
    /// directory's requests until the busy one's backlog was done.
    func refusingLanes() -> [String] {
        guard processor.lanes.count > 1 else { return [] }
        return processor.lanes.filter { $0.refuses(directoryDown: state.isDirectoryDown($0.name)) }.map(\.name)
    }

    /// How long to sleep when there is nothing to claim: the poll interval, or less when a row
    /// becomes claimable sooner. Intervals up to a second are taken as they are (no query).
    func idleWait(interval: Duration) async -> Duration {
        guard interval > .seconds(1) else { return interval }
        let now = Date()
        guard let due = try? await queue.nextDue(now: now) else { return interval }
        let until = Duration.milliseconds(Int64((due.timeIntervalSince(now) * 1000).rounded(.up)) + 5)
        return max(.milliseconds(10), min(interval, until))
    }

    public func run() async throws {
        // The wake source runs beside the loop and is cancelled once the loop has stopped.
        let wakeTask = Task { [wakeSource, waker] in await wakeSource.run { waker.wake() } }
        defer { wakeTask.cancel() }
        // The lease keeper outlives the loop: the requests in flight at shutdown keep theirs.
        let leaseTask = Task { [leases, queue, processor, logger, state] in
            await leases.run(queue: queue, owner: processor.owner, logger: logger) { .seconds(state.runtime.config.queue.leaseSeconds) }
        }
        defer { leaseTask.cancel() }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !stopping.load(ordering: .acquiring) {
                    let config = state.runtime.config.queue
                    var interval = Duration.milliseconds(max(10, config.pollIntervalMs))
                    if state.isPaused { await waker.wait(timeout: interval); continue }
                    // While an event source is listening it wakes the poller for every new row,
                    // and idleWait still cuts the wait to the next retry or lease expiry: the
                    // safety-net poll can be sparse (idle CPU), at most `eventSafetyPoll` apart.
                    if wakeSource.current != .poll, state.phase != .directoryDown { interval = max(interval, Self.eventSafetyPoll) }
                    let inFlight = self.inFlight
                    var limit = workers - inFlight
                    if state.phase == .directoryDown {
                        // Probe with one request at a time until a directory answers.
                        limit = inFlight == 0 ? 1 : 0
                        interval = max(interval, .seconds(1))
                    }
                    if limit > 0 {
                        let claimed: [ClaimedRequest]
                        do {
                            claimed = try await queue.claim(limit: limit, owner: processor.owner, lease: .seconds(config.leaseSeconds), now: Date(),
                                                            skippingDirectories: refusingLanes())
                        } catch {
                            logger.error("cannot claim from the queue", metadata: ["error": "\(error)"])
                            state.recordError("queue: \(error)", at: Date())
                            await waker.wait(timeout: max(interval, .seconds(1)))
                            continue
                        }
                        let claimedAt = Date()
                        for request in claimed where request.firstClaim {
                            processor.metrics.pickup(seconds: max(0, claimedAt.timeIntervalSince(request.createdAt)))
                        }
                        // Intent rows come first in `claimed`; the others wait until those hold
                        // their users' locks (IntentGate).
                        let intentRows = claimed.count(where: \.intentRecorded)
                        let gate = intentRows > 0 && intentRows < claimed.count ? IntentGate(intentRows: intentRows) : nil
                        for request in claimed {
                            // claim() returned at most `limit` rows, so a slot is free (were one
                            // missing, the request would still run, just without affinity).
                            let slot = freeSlots.withLock { $0.popLast() }
                            // One directory: prefer slot i's connection thread. Several: the
                            // processor prefers its lane's once it knows the directory.
                            let single = processor.lanes.count == 1 ? processor.lanes[0].directory : nil
                            group.addTask(executorPreference: slot.flatMap { single?.taskExecutor(forWorker: $0) }) {
                                await self.processHoldingLease(request, gate: gate)
                                if let slot { self.freeSlots.withLock { $0.append(slot) } }
                                self.waker.wake()
                            }
                        }
                        // A full batch: there may be more; go round (a full house waits below).
                        if claimed.count == limit, state.phase != .directoryDown, self.inFlight < workers { continue }
                    }
                    // A full house is woken by its next free worker: no due moment to look up.
                    await waker.wait(timeout: self.inFlight < workers ? await idleWait(interval: interval) : interval)
                }
                logger.info("stopped claiming; finishing the requests in flight", metadata: ["in_flight": "\(self.inFlight)"])
            }
            do {
                try await queue.releaseAll(owner: processor.owner)
            } catch {
                logger.error("cannot release claimed requests; their leases will expire", metadata: ["error": "\(error)"])
            }
            logger.info("queue worker stopped")
        } onGracefulShutdown: {
            self.state.setDraining()
            self.systemd.stopping()
            self.stopping.store(true, ordering: .releasing)
            self.waker.wake()
        }
    }
}
