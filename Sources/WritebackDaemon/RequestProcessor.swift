import AuditTrail
import Foundation
import Logging
import RequestCodec
import RequestQueue
import WritebackCore
import WritebackPolicy

/// The pipeline for one claimed request, in one direction: verify → decide → write → record
/// → notify (DESIGN.md "Order of checks"). `decide` only reads and writes the directory;
/// everything durable happens in `finish` (RequestProcessor+Finish.swift), so each path ends
/// in exactly one of: a terminal outcome, or the row given back to the queue.
///
/// At most once: right before the directory write the queue records the intent (with the
/// user's password stamp); a row claimed again with an intent is first decided by reading the
/// directory back, and a write that happened is recorded as succeeded without writing again.
///
/// Several directories: the request's user is routed (`DaemonRuntime.router`) to one lane,
/// whose directory, rules and capacity then apply; a full or down lane gives the row back
/// at once without an attempt, so the other directories' requests go on.
public struct RequestProcessor: Sendable {
    let queue: any RequestQueueStore
    let stateStore: any StateStore
    /// Aligned with the configuration's `directories` (which a reload cannot change).
    let lanes: [DirectoryLane]
    let notifier: (any ConfirmationNotifier)?
    /// The tamper-evident trail (RequestProcessor+AuditTrail.swift); nil only in tests.
    let auditTrail: AuditWriter?
    let hashes: HistoryHashPool
    let state: DaemonState
    let metrics: DaemonMetrics
    let logger: Logger
    let owner: String
    let userLocks = UserLocks()
    let clock: @Sendable () -> Date

    /// What became of a request in this claim.
    enum Step: Sendable {
        case complete(Outcome, success: Success?)
        /// Back to `pending`, not before `notBefore`.
        case release(notBefore: Date, countAttempt: Bool, reason: String)
    }

    /// What `finish` records after a successful write (or one found applied on readback).
    struct Success: Sendable {
        var user: DirectoryUser
        var request: ResetRequest
        var history: HistoryHashPool.Verdict?
        /// The directory's `history_count`: how many hashes to keep.
        var historyKeep: Int
    }

    /// What the audit line says about a request, filled in as the pipeline learns it.
    struct Audit: Sendable {
        var request: ResetRequest?
        var user: DirectoryUser?
        var attempts: Int
        /// The user lock this request holds until it is recorded.
        var lockKey: String?
        /// The directory the request was routed to.
        var directory: String?
        /// The lane slot this request holds until it is recorded.
        var admission: (lane: DirectoryLane, admission: DirectoryLane.Admission)?
        /// How long each step took, for `writebackd_pipeline_seconds{step}`; recorded only
        /// for a request whose write went through in this claim (`steps.wrote`).
        var steps = StepClock()
        /// When the directory acknowledged this claim's write (the audit line's `written_at`):
        /// the moment the user can log in with the new password.
        var writtenAt: Date?
        /// Whether this claim sent (or tried to send) the directory write: a release without
        /// one withdraws the intent this claim recorded.
        var writeAttempted = false
        /// Told once the user's lock is held (`IntentGate`); nil once told.
        var lockTaken: (@Sendable () -> Void)?
    }

    /// Splits a request's time after its claim into the pipeline's steps: each `mark` closes
    /// the step that ran since the previous mark (or since the pipeline took the request).
    struct StepClock: Sendable {
        private var last = ContinuousClock.now
        private(set) var durations: [(PipelineStep, Duration)] = []

        mutating func mark(_ step: PipelineStep) {
            let now = ContinuousClock.now
            durations.append((step, now - last))
            last = now
        }

        /// Whether the directory write went through in this claim (its step was marked).
        var wrote: Bool { durations.contains { $0.0 == .write } }
    }

    /// Where a directory error happened: a lookup (or readback) changes nothing, so a timeout
    /// there means "no answer", like an outage; a timeout during the write has an unknown
    /// outcome and counts as an attempt.
    enum Stage { case lookup, write }

    /// Runs `claimed` through the pipeline. `lockTaken` is called once: when the request holds
    /// its user's lock, or when it ends without taking it (`IntentGate`).
    public func process(_ claimed: ClaimedRequest, lockTaken: (@Sendable () -> Void)? = nil) async {
        var audit = Audit(request: nil, user: nil, attempts: claimed.attempts)
        audit.lockTaken = lockTaken
        let step = await decide(claimed, runtime: state.runtime, audit: &audit)
        audit.lockTaken?()
        await finish(claimed, step: step, audit: audit)
        if let key = audit.lockKey { userLocks.unlock(key) }
        if let (lane, admission) = audit.admission { lane.leave(admission) }
    }

    func decide(_ claimed: ClaimedRequest, runtime: DaemonRuntime, audit: inout Audit) async -> Step {
        let now = clock()
        // The replay check (step 2) needs only the row id, which a verified payload's id must
        // equal: its read is started here (`Task.immediate` runs up to the store's first
        // suspension, the read handed to the store's own thread or connection) and runs while
        // this thread checks the signature and unseals, and then beside the user's lookup. A row
        // that fails step 1 ignores it.
        let seenRead: Task<Bool, any Error>? = claimed.intentRecorded ? nil
            : Task.immediate { [stateStore] in try await stateStore.hasSeen(id: claimed.id) }
        // 1. Signature, payload, expiry. A row whose write may already have happened is judged
        //    as of its creation, so an expiry in between cannot hide a write that happened.
        let request: ResetRequest
        switch runtime.verifier.verify(rowID: claimed.id, payload: claimed.payload, signature: claimed.signature,
                                       now: claimed.intentRecorded ? claimed.createdAt : now) {
        case .failure(let rejection): return .complete(rejection.outcome, success: nil)
        case .success(let r): request = r
        }
        audit.request = request

        // Sealed fields are part of the payload: one that does not open is invalid_request,
        // which comes before every other check.
        var newPassword: Secret?
        var oldPassword: Secret?
        do throws(RequestRejection) {
            if let sealed = request.newPassword { newPassword = try runtime.opener.open(sealed, requestID: request.id, field: "new_password") }
            if let sealed = request.oldPassword { oldPassword = try runtime.opener.open(sealed, requestID: request.id, field: "old_password") }
        } catch {
            return .complete(error.outcome, success: nil)
        }
        audit.steps.mark(.verify)

        // 2. Replay: its answer is awaited once the lookup is back, or before any outcome that
        //    would be decided sooner, so it still comes first (`replayStep`).

        // 3. Which directory; eligibility that needs no lookup (that directory's rules).
        let index: Int, lookup: String
        switch runtime.router.route(request.user) {
        case .unmatched(let reason):
            if let step = await replayStep(seenRead, now: now) { return step }
            if let outcome = runtime.policy.checkBeforeLookup(request) { return .complete(outcome, success: nil) }
            return .complete(Outcome(.notManaged, detail: reason), success: nil)
        case .directory(let i, let name):
            index = i; lookup = name
        }
        let lane = lanes[index]
        let at = Target(lane: lane, config: runtime.config.policy(for: runtime.config.directories[index]), engine: runtime.policies[index])
        audit.directory = lane.name
        if let outcome = at.engine.checkBeforeLookup(request) { return await replayStep(seenRead, now: now) ?? .complete(outcome, success: nil) }

        // A full lane, or a down one that another request is probing: back to the queue,
        // without an attempt, so this directory's backlog does not hold the others.
        let admission = lane.admit(directoryDown: state.isDirectoryDown(lane.name))
        switch admission {
        case .busy:
            if let step = await replayStep(seenRead, now: now) { return step }
            return .release(notBefore: now.addingTimeInterval(Backoff.laneBusy()), countAttempt: false, reason: "directory \(lane.name): every connection busy")
        case .down:
            if let step = await replayStep(seenRead, now: now) { return step }
            if now >= request.expiresAt { return .complete(Outcome(.directoryUnavailable), success: nil) }
            return .release(notBefore: now.addingTimeInterval(Backoff.laneDown()), countAttempt: false, reason: "directory \(lane.name) is down; waiting")
        case .admitted(let slot, _):
            audit.admission = (lane, admission)
            // With several directories the worker could not know which pool's thread to
            // prefer; now it is known.
            if lanes.count > 1 {
                return await withTaskExecutorPreference(lane.directory.taskExecutor(forWorker: slot)) {
                    await decide(claimed, request: request, lookup: lookup, at: at, newPassword: newPassword, oldPassword: oldPassword,
                                 seenRead: seenRead, runtime: runtime, now: now, audit: &audit)
                }
            }
            return await decide(claimed, request: request, lookup: lookup, at: at, newPassword: newPassword, oldPassword: oldPassword,
                                seenRead: seenRead, runtime: runtime, now: now, audit: &audit)
        }
    }

    /// The directory a request was routed to, with the rules that apply there.
    struct Target: Sendable {
        let lane: DirectoryLane
        let config: PolicyConfig
        let engine: PolicyEngine
        var directory: any PasswordDirectory { lane.directory }
    }

    /// Step 2's answer, where its outcome must come first: nil to go on.
    func replayStep(_ seenRead: Task<Bool, any Error>?, now: Date) async -> Step? {
        // A row with a recorded intent may have been marked seen by its own earlier finish (it
        // has no `seenRead`); the readback decides it instead.
        guard let seenRead else { return nil }
        do {
            return try await seenRead.value ? .complete(Outcome(.replayed), success: nil) : nil
        } catch {
            return storeFailure("state store (replay check)", error, now: now)
        }
    }

    /// Steps 4–8, at the directory `at`, for the identity `lookup`; step 2's answer awaited
    /// once the user is looked up.
    func decide(_ claimed: ClaimedRequest, request: ResetRequest, lookup: String, at: Target, newPassword: Secret?, oldPassword: Secret?,
                seenRead: Task<Bool, any Error>?, runtime: DaemonRuntime, now: Date, audit: inout Audit) async -> Step {
        let directory = at.directory
        // One request per user at a time, from the lookup until the outcome is recorded.
        let key = UserLocks.key(forIdentity: request.user)
        await userLocks.lock(key)
        audit.lockKey = key
        audit.lockTaken?()
        audit.lockTaken = nil

        // 4. The user.
        let groups = at.config.ssprGroups + at.config.protectedGroups
        let found: Result<DirectoryUser, DirectoryError>
        do {
            found = .success(try await directory.findUser(identity: lookup, groupsOfInterest: groups))
        } catch {
            found = .failure(error)
        }
        audit.steps.mark(.lookup)
        if let step = await replayStep(seenRead, now: now) { return step }
        audit.steps.mark(.replay)
        let user: DirectoryUser
        switch found {
        case .failure(let error):
            return directoryFailure(error, stage: .lookup, claimed: claimed, request: request, at: at, runtime: runtime, now: now)
        case .success(let u):
            user = u
        }
        audit.user = user
        state.directoryAnswered(at.lane.name)

        // 5. At most once: did the interrupted write happen? (An unlock is idempotent: redo it.)
        if claimed.intentRecorded, request.kind != .unlock {
            let verdict: ReadbackVerdict
            do {
                verdict = try await directory.readBack(user: user, intentStamp: claimed.intentStamp, newPassword: newPassword)
            } catch {
                return directoryFailure(error, stage: .lookup, claimed: claimed, request: request, at: at, runtime: runtime, now: now)
            }
            if verdict == .applied {
                logger.info("request was already applied before an interruption; recording it", metadata: ["request_id": "\(request.id)"])
                let rules = await effectivePolicy(user: user, kind: request.kind, at: at).applied(to: at.config)
                let history = try? await historyVerdict(newPassword, user: user, policy: rules)
                return .complete(.succeeded, success: Success(user: user, request: request, history: history ?? nil, historyKeep: rules.historyCount))
            }
            // The attempts are used up: the last one's timed-out write did not happen.
            if claimed.attempts >= runtime.config.queue.maxAttempts {
                return .complete(Outcome(.directoryError, detail: "write timed out on attempt \(claimed.attempts); readback: not applied"), success: nil)
            }
        }

        // SIGTERM: a request that has not reached its rules goes back to the queue (DESIGN.md
        // "Shutdown": claimed-but-unstarted rows return to pending), and so does one whose
        // history derivation has not started (`HistoryHashPool.check`'s `skipIf`): the
        // shutdown waits only for the derivations running and the writes they lead to.
        if state.isDraining { return givenBackAtShutdown(now: now) }

        // 8a. The intent's commit starts now and runs while the rules are checked: it says only
        //     that a write *may* follow. A request the rules refuse is made terminal anyway, and
        //     one given back without a write attempt has its intent withdrawn by its release
        //     (`finish`), so it is judged afresh, expiry included, next time. Measured (`make
        //     bench` pickup): the intent's commit was 0.4 ms (SQLite) to 1.0 ms (PostgreSQL) in
        //     series after the rules.
        let stamp = user.passwordStamp
        let userKey = Self.userKey(directory: at.lane.name, user: user)
        let intent = Task.immediate { [queue, owner] in
            try await queue.recordIntent(id: claimed.id, owner: owner, stamp: stamp, userKey: userKey)
        }
        let ruling = await checkRules(claimed, request: request, user: user, at: at, newPassword: newPassword, runtime: runtime, now: now)
        audit.steps.mark(.rules)
        let intentResult = await intent.result
        let history: HistoryHashPool.Verdict?, effective: EffectivePolicy
        switch ruling {
        case .stop(let step): return step
        case .pass(let h, let e): (history, effective) = (h, e)
        }

        // 8b. The intent durable, then the write. (A request whose rules have run goes on to
        //     its write also after SIGTERM: a millisecond, and its checks' work is not lost.)
        if case .failure(let error) = intentResult {
            // Another request (another daemon's, or another spelling of this user) is writing
            // this account, or its write's outcome is not known yet: soon again, no attempt.
            if case QueueError.userBusy = error {
                return .release(notBefore: now.addingTimeInterval(Backoff.userBusy()), countAttempt: false,
                                reason: "another request for this account is being written")
            }
            return storeFailure("queue (intent)", error, now: now)
        }
        audit.steps.mark(.intent)
        let write = PasswordWrite(kind: request.kind, newPassword: newPassword, oldPassword: oldPassword,
                                  unlock: request.kind == .unlock || request.unlock, mustChange: request.mustChangeAtNextLogon)
        let started = ContinuousClock.now
        audit.writeAttempted = true
        do {
            try await directory.apply(write, to: user)
        } catch {
            if await landedLate(error, claimed: claimed, request: request, user: user, newPassword: newPassword, directory: directory) {
                return .complete(.succeeded, success: Success(user: user, request: request, history: history, historyKeep: effective.historyCount))
            }
            // AD's 0000052D says only "a policy rule": name the one the user's policy explains.
            if case .passwordRejected(.directoryRule, _) = error, let text = newPassword?.unsafeString() {
                metrics.directoryError(kind: error.kindLabel, directory: at.lane.name)
                return .complete(.passwordPolicy(effective.explainRefusal(of: text, user: user, kind: request.kind, now: now)), success: nil)
            }
            return directoryFailure(error, stage: .write, claimed: claimed, request: request, at: at, runtime: runtime, now: clock())
        }
        let elapsed = ContinuousClock.now - started
        metrics.directoryWrite(seconds: elapsed.timeInterval, directory: at.lane.name)
        audit.writtenAt = Date()
        audit.steps.mark(.write)
        return .complete(.succeeded, success: Success(user: user, request: request, history: history, historyKeep: effective.historyCount))
    }

    /// Back to the queue, at once and without an attempt: the daemon is stopping before this
    /// request's write was sent. Its intent, if this claim recorded one, is withdrawn.
    func givenBackAtShutdown(now: Date) -> Step {
        .release(notBefore: now, countAttempt: false, reason: "given back before its write: daemon \(owner) stopping")
    }

    /// Whether a refused rewrite of an interrupted request is the earlier write, landed late.
    /// A write whose reply was lost can still be applied after the readback found nothing
    /// (the server was working through it); the rewrite then meets the new password already
    /// in place, and the directory answers "in history", "too young" or, for a change, "wrong
    /// old password". Reading back once more tells that apart from a real refusal.
    func landedLate(_ error: DirectoryError, claimed: ClaimedRequest, request: ResetRequest,
                    user: DirectoryUser, newPassword: Secret?, directory: any PasswordDirectory) async -> Bool {
        guard claimed.intentRecorded, request.kind != .unlock else { return false }
        switch error {
        case .passwordRejected, .wrongOldPassword: break
        default: return false
        }
        guard let verdict = try? await directory.readBack(user: user, intentStamp: claimed.intentStamp, newPassword: newPassword),
              verdict == .applied else { return false }
        logger.info("an interrupted earlier write landed late; recording it", metadata: ["request_id": "\(request.id)", "refusal": "\(error)"])
        return true
    }

    func directoryFailure(_ error: DirectoryError, stage: Stage, claimed: ClaimedRequest, request: ResetRequest,
                          at: Target, runtime: DaemonRuntime, now: Date) -> Step {
        metrics.directoryError(kind: error.kindLabel, directory: at.lane.name)
        let noAnswer: Bool
        switch error {
        case .unavailable: noAnswer = true
        case .timedOut: noAnswer = stage == .lookup
        default: noAnswer = false
        }
        if noAnswer {
            // Outage: consumes no attempt; only the request's own expiry ends it.
            state.directoryUnavailable(error.description, of: at.lane.name, at: now)
            if now >= request.expiresAt { return .complete(Outcome(.directoryUnavailable), success: nil) }
            return .release(notBefore: now.addingTimeInterval(Backoff.outageRetry()), countAttempt: false, reason: error.description)
        }
        // Any answer but a timeout shows the directory is there (a refusal is an answer).
        if case .timedOut = error {} else { state.directoryAnswered(at.lane.name) }
        state.recordError("directory \(at.lane.name): \(error.description)", at: now)
        if error.isTransient {
            let attempts = claimed.attempts + 1
            if attempts >= runtime.config.queue.maxAttempts {
                // A timed-out write may have happened: the last attempt is decided by a
                // readback after the backoff (step 5 of `decide`), not by the timeout. Not for
                // an unlock: it has no readback and is simply redone, so it ends here.
                if case .timedOut = error, stage == .write, request.kind != .unlock {
                    return .release(notBefore: now.addingTimeInterval(Backoff.delay(attempt: attempts)), countAttempt: true, reason: error.description)
                }
                return .complete(error.outcome, success: nil)
            }
            return .release(notBefore: now.addingTimeInterval(Backoff.delay(attempt: attempts)), countAttempt: true, reason: error.description)
        }
        return .complete(error.outcome, success: nil)
    }

    /// The account a write goes to, as `recordIntent` guards it: the directory's name and the
    /// entry's normalised DN (two spellings of one user, or two daemons, meet here).
    static func userKey(directory: String, user: DirectoryUser) -> String {
        "\(directory)|\(DirectoryUser.normalize(dn: user.dn))"
    }

    /// The queue or state store failed: give the row back without counting an attempt.
    func storeFailure(_ what: String, _ error: any Error, now: Date) -> Step {
        let message = "\(what): \(error)"
        logger.error("store error; request released", metadata: ["error": "\(message)"])
        state.recordError(message, at: now)
        return .release(notBefore: now.addingTimeInterval(Backoff.outageRetry()), countAttempt: false, reason: message)
    }
}

/// Retry delays: exponential with jitter for transient errors, a short jittered pause while
/// no directory answers (the request's expiry, not a count, ends an outage).
enum Backoff {
    static func delay(attempt: Int, base: Double = 1, cap: Double = 300) -> TimeInterval {
        let exponential = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        return exponential * Double.random(in: 0.5...1.0)
    }

    static func outageRetry() -> TimeInterval { Double.random(in: 1.0...2.0) }

    /// The request's directory is down and another request is probing it: a few seconds, so a
    /// large backlog for one directory does not churn the queue while it is away.
    static func laneDown() -> TimeInterval { Double.random(in: 2.0...5.0) }

    /// Every connection of the request's directory is busy: soon, after the ones in flight.
    static func laneBusy() -> TimeInterval { Double.random(in: 0.2...0.5) }

    /// Another request holds the account's intent: after that write is recorded (milliseconds),
    /// or, when its outcome is unknown, once it has been settled.
    static func userBusy() -> TimeInterval { Double.random(in: 0.2...0.5) }
}
