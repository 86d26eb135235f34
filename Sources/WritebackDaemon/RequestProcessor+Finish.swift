import Foundation
import Logging
import WritebackCore

extension RequestProcessor {
    /// Makes the step durable: the daemon's own state (replay id, throttle counter, history),
    /// the confirmation (idempotent per request) and the audit line, side by side, and only once
    /// all three are on disk the queue row. A crash before the row is terminal makes the
    /// request be decided again (its intent's readback finds the write and records it again),
    /// so it can at worst repeat an idempotent step; it can never lose the history of a
    /// password that was set, nor report success without a row that says so.
    func finish(_ claimed: ClaimedRequest, step: Step, audit: Audit) async {
        switch step {
        case .release(let notBefore, let countAttempt, let reason):
            // No write in this claim and no intent from an earlier one: the intent recorded
            // beside the rules (if it was) is withdrawn, the row judged afresh next time.
            let withdraw = !claimed.intentRecorded && !audit.writeAttempted
            do {
                try await queue.release(id: claimed.id, owner: owner, notBefore: notBefore, countAttempt: countAttempt, lastError: reason,
                                        directory: audit.directory, withdrawingIntent: withdraw)
            } catch {
                // The lease expires and the row is claimed again; the intent protects the write.
                logger.error("cannot release a request; its lease will expire", metadata: ["request_id": "\(claimed.id)", "error": "\(error)"])
            }
            logger.debug("request released", metadata: ["request_id": "\(claimed.id)", "reason": "\(reason)", "not_before": "\(notBefore)"])

        case .complete(let outcome, let success):
            let now = clock()
            var steps = audit.steps
            // The daemon's state, the confirmation and the audit line do not depend on one
            // another, only the queue row on all three: they are made durable side by side (three
            // fsyncs in parallel, not in series, on the way from queued to written).
            async let recorded = Self.timed { await recordState(claimed, outcome: outcome, success: success, audit: audit, now: now) }
            async let confirmed = Self.timed { await confirm(claimed, success: success, now: now) }
            async let trailed = Self.timed { await appendToTrail(claimed, outcome: outcome, audit: audit, now: now) }
            let parts = await [(RecordPart.state, recorded), (.outbox, confirmed), (.audit, trailed)]
            steps.mark(.record)
            if steps.wrote { for (part, duration) in parts { metrics.record(part, duration) } }
            do {
                try await queue.complete(id: claimed.id, owner: owner, outcome: outcome, directory: audit.directory, now: now)
            } catch {
                logger.error("cannot record the outcome; the request will be decided again after its lease",
                             metadata: ["request_id": "\(claimed.id)", "outcome": "\(outcome)", "error": "\(error)"])
                state.recordError("queue: \(error)", at: now)
                return
            }
            steps.mark(.complete)
            if steps.wrote { for (step, duration) in steps.durations { metrics.pipeline(step, duration) } }
            metrics.requestFinished(outcome, directory: audit.directory)
            state.recordTerminal(succeeded: outcome.code == .succeeded, at: now)
            logAudit(claimed, outcome: outcome, audit: audit, now: now)
        }
    }

    /// How long `body` took.
    static func timed(_ body: () async -> Void) async -> Duration {
        let start = ContinuousClock.now
        await body()
        return ContinuousClock.now - start
    }

    /// The replay id, the throttle counter and the history, in one commit.
    func recordState(_ claimed: ClaimedRequest, outcome: Outcome, success: Success?, audit: Audit, now: Date) async {
        do {
            let seen = audit.request.flatMap { outcome.code != .replayed ? (id: $0.id, until: $0.expiresAt) : nil }
            let history = success.flatMap { s in s.history.flatMap { s.historyKeep > 0 ? (salt: $0.salt, hash: $0.hash, keep: s.historyKeep) : nil } }
            try await stateStore.recordFinished(FinishedRecord(seen: seen, success: success.map { (userDN: $0.user.dn, at: now) },
                                                               history: history))
        } catch {
            logger.error("state store update failed", metadata: ["request_id": "\(claimed.id)", "error": "\(error)"])
            state.recordError("state store: \(error)", at: now)
        }
    }

    /// The confirmation e-mail for a success (idempotent per request: a repeat replaces it).
    func confirm(_ claimed: ClaimedRequest, success: Success?, now: Date) async {
        guard let success, let notifier else { return }
        do {
            try await notifier.confirm(confirmation(for: success, at: now))
        } catch {
            logger.warning("confirmation not written", metadata: ["request_id": "\(claimed.id)", "error": "\(error)"])
        }
    }

    func confirmation(for success: Success, at now: Date) -> Confirmation {
        let request = success.request
        return Confirmation(
            requestId: request.id, kind: request.kind,
            unlocked: request.kind == .unlock || (request.unlock && success.user.locked),
            mustChange: request.mustChangeAtNextLogon, initiator: request.initiator,
            accountName: success.user.accountName, displayName: success.user.displayName,
            mail: success.user.mail, alternateMail: success.user.alternateMail, locale: request.locale, at: now)
    }

    /// One line per terminal request: who, what, the outcome and how long it took. Never a
    /// secret: no payload, no password, only identifiers and codes.
    func logAudit(_ claimed: ClaimedRequest, outcome: Outcome, audit: Audit, now: Date) {
        var metadata: Logger.Metadata = [
            "audit": "request",
            "request_id": "\(claimed.id)",
            "outcome": "\(outcome.code.rawValue)",
            "state": "\(outcome.state.rawValue)",
            "attempts": "\(audit.attempts)",
            "latency_ms": "\(Int((now.timeIntervalSince(claimed.createdAt) * 1000).rounded()))",
        ]
        if let detail = outcome.detail { metadata["detail"] = "\(detail)" }
        if let request = audit.request {
            metadata["kind"] = "\(request.kind.rawValue)"
            metadata["initiator"] = "\(request.initiator.auditName)"
            metadata["user"] = "\(request.user)"
        }
        if let writtenAt = audit.writtenAt { metadata["written_at"] = "\(Timestamp.formatMicroseconds(writtenAt))" }
        if let directory = audit.directory { metadata["directory"] = "\(directory)" }
        if let user = audit.user { metadata["user_dn"] = "\(user.dn)" }
        let level: Logger.Level = outcome.code == .succeeded ? .info : (outcome.state == .failed ? .error : .notice)
        logger.log(level: level, "request \(outcome.state.rawValue)", metadata: metadata)
    }
}
