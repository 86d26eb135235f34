import AuditTrail
import Foundation
import WritebackCore

extension RequestProcessor {
    /// Appends the request's line to `<state dir>/audit.jsonl` before its queue row becomes
    /// terminal, so the trail never misses a recorded outcome (a crash between the two repeats
    /// the request's line when it is decided again: at least once, the later line wins).
    /// Only facts the pipeline verified: a row whose signature failed has no user or kind.
    /// A trail that cannot be written is logged and shown in `status`; the request still ends.
    func appendToTrail(_ claimed: ClaimedRequest, outcome: Outcome, audit: Audit, now: Date) async {
        guard let auditTrail else { return }
        let record = AuditRecord(
            requestID: claimed.id, user: audit.request?.user, userDN: audit.user?.dn, directory: audit.directory,
            kind: audit.request?.kind.rawValue, initiator: audit.request?.initiator.auditName,
            outcome: outcome.code.rawValue, state: outcome.state.rawValue, detail: outcome.detail,
            attempts: audit.attempts, createdAt: claimed.createdAt, completedAt: now, owner: owner)
        do {
            try await auditTrail.append(record)
        } catch {
            logger.error("audit trail not written", metadata: ["request_id": "\(claimed.id)", "error": "\(error)"])
            state.recordError("audit trail: \(error)", at: now)
        }
    }
}
