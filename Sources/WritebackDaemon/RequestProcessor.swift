import AuditTrail
import Foundation
import Logging
import RequestCodec
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
public struct RequestProcessor: Sendable {
    let queue: any RequestQueueStore
    let stateStore: any StateStore
    let directory: any PasswordDirectory
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
    }

    /// What the audit line says about a request, filled in as the pipeline learns it.
    struct Audit: Sendable {
        var request: ResetRequest?
        var user: DirectoryUser?
        var attempts: Int
        /// The user lock this request holds until it is recorded.
        var lockKey: String?
    }

    /// Where a directory error happened: a lookup (or readback) changes nothing, so a timeout
    /// there means "no answer", like an outage; a timeout during the write has an unknown
    /// outcome and counts as an attempt.
    enum Stage { case lookup, write }

    public func process(_ claimed: ClaimedRequest) async {
        var audit = Audit(request: nil, user: nil, attempts: claimed.attempts)
        let step = await decide(claimed, runtime: state.runtime, audit: &audit)
        await finish(claimed, step: step, audit: audit)
        if let key = audit.lockKey { userLocks.unlock(key) }
    }

    func decide(_ claimed: ClaimedRequest, runtime: DaemonRuntime, audit: inout Audit) async -> Step {
        let now = clock()
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

        // 2. Replay. A row with a recorded intent may have been marked seen by its own earlier
        //    finish; the readback below decides it instead.
        if !claimed.intentRecorded {
            do {
                if try await stateStore.hasSeen(id: request.id) { return .complete(Outcome(.replayed), success: nil) }
            } catch {
                return storeFailure("state store (replay check)", error, now: now)
            }
        }

        // 3. Eligibility that needs no lookup.
        if let outcome = runtime.policy.checkBeforeLookup(request) { return .complete(outcome, success: nil) }

        // One request per user at a time, from the lookup until the outcome is recorded.
        let key = UserLocks.key(forIdentity: request.user)
        await userLocks.lock(key)
        audit.lockKey = key

        // 4. The user.
        let groups = runtime.config.policy.ssprGroups + runtime.config.policy.protectedGroups
        let user: DirectoryUser
        do {
            user = try await directory.findUser(identity: request.user, groupsOfInterest: groups)
        } catch {
            return directoryFailure(error, stage: .lookup, claimed: claimed, request: request, runtime: runtime, now: now)
        }
        audit.user = user
        state.directoryAnswered()

        // 5. At most once: did the interrupted write happen? (An unlock is idempotent: redo it.)
        if claimed.intentRecorded, request.kind != .unlock {
            let verdict: ReadbackVerdict
            do {
                verdict = try await directory.readBack(user: user, intentStamp: claimed.intentStamp, newPassword: newPassword)
            } catch {
                return directoryFailure(error, stage: .lookup, claimed: claimed, request: request, runtime: runtime, now: now)
            }
            if verdict == .applied {
                logger.info("request was already applied before an interruption; recording it", metadata: ["request_id": "\(request.id)"])
                let history = try? await historyVerdict(newPassword, user: user, runtime: runtime)
                return .complete(.succeeded, success: Success(user: user, request: request, history: history ?? nil))
            }
            // The attempts are used up: the last one's timed-out write did not happen.
            if claimed.attempts >= runtime.config.queue.maxAttempts {
                return .complete(Outcome(.directoryError, detail: "write timed out on attempt \(claimed.attempts); readback: not applied"), success: nil)
            }
        }

        // 6. Eligibility that needs the user (scope ... throttled).
        let recent: Int
        do {
            recent = try await stateStore.successCount(userDN: user.dn, since: now.addingTimeInterval(-3600))
        } catch {
            return storeFailure("state store (throttle)", error, now: now)
        }
        if let outcome = runtime.policy.checkEligibility(request, user: user, recentSuccesses: recent, now: now) {
            return .complete(outcome, success: nil)
        }

        // 7. Password rules (reset and change).
        var history: HistoryHashPool.Verdict?
        if request.kind != .unlock, let password = newPassword {
            do {
                history = try await historyVerdict(password, user: user, runtime: runtime)
            } catch {
                return storeFailure("password history", error, now: now)
            }
            let inHistory = (history?.inHistory ?? false)
                || (runtime.config.policy.historyCount > 0 && PasswordHistoryEntry.contains(password, in: user.passwordHistory))
            guard let text = password.unsafeString() else {
                return .complete(Outcome(.invalidRequest, detail: "new_password: not UTF-8 text"), success: nil)
            }
            if let rule = runtime.policy.passwordViolations(text, user: user, inHistory: inHistory, now: now).first {
                return .complete(.passwordPolicy(rule), success: nil)
            }
        }

        // 8. Intent, then the write.
        do {
            try await queue.recordIntent(id: claimed.id, owner: owner, stamp: user.passwordStamp)
        } catch {
            return storeFailure("queue (intent)", error, now: now)
        }
        let write = PasswordWrite(kind: request.kind, newPassword: newPassword, oldPassword: oldPassword,
                                  unlock: request.kind == .unlock || request.unlock, mustChange: request.mustChangeAtNextLogon)
        let started = ContinuousClock.now
        do {
            try await directory.apply(write, to: user)
        } catch {
            if await landedLate(error, claimed: claimed, request: request, user: user, newPassword: newPassword) {
                return .complete(.succeeded, success: Success(user: user, request: request, history: history))
            }
            return directoryFailure(error, stage: .write, claimed: claimed, request: request, runtime: runtime, now: clock())
        }
        let elapsed = ContinuousClock.now - started
        metrics.directoryWrite(seconds: elapsed.timeInterval)
        return .complete(.succeeded, success: Success(user: user, request: request, history: history))
    }

    /// Whether a refused rewrite of an interrupted request is the earlier write, landed late.
    /// A write whose reply was lost can still be applied after the readback found nothing
    /// (the server was working through it); the rewrite then meets the new password already
    /// in place, and the directory answers "in history", "too young" or, for a change, "wrong
    /// old password". Reading back once more tells that apart from a real refusal.
    func landedLate(_ error: DirectoryError, claimed: ClaimedRequest, request: ResetRequest,
                    user: DirectoryUser, newPassword: Secret?) async -> Bool {
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

    /// The history derivation for `password`, or nil when the daemon keeps no history.
    func historyVerdict(_ password: Secret?, user: DirectoryUser, runtime: DaemonRuntime) async throws -> HistoryHashPool.Verdict? {
        let keep = runtime.config.policy.historyCount
        guard keep > 0, let password else { return nil }
        let record = try await stateStore.history(userDN: user.dn)
        return try await hashes.check(password, record: record, keep: keep)
    }

    func directoryFailure(_ error: DirectoryError, stage: Stage, claimed: ClaimedRequest, request: ResetRequest,
                          runtime: DaemonRuntime, now: Date) -> Step {
        metrics.directoryError(kind: error.kindLabel)
        let noAnswer: Bool
        switch error {
        case .unavailable: noAnswer = true
        case .timedOut: noAnswer = stage == .lookup
        default: noAnswer = false
        }
        if noAnswer {
            // Outage: consumes no attempt; only the request's own expiry ends it.
            state.directoryUnavailable(error.description, at: now)
            if now >= request.expiresAt { return .complete(Outcome(.directoryUnavailable), success: nil) }
            return .release(notBefore: now.addingTimeInterval(Backoff.outageRetry()), countAttempt: false, reason: error.description)
        }
        state.recordError(error.description, at: now)
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
}
