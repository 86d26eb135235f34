import Foundation

/// What the trail says about one terminal request: who asked for what, on whose behalf, and
/// what became of it. Identifiers and codes only, never a password or a payload: this is the
/// answer to "who reset this account, when, on whose behalf", kept apart from the queue (which
/// forgets terminal rows after `[queue] retention_days`) and from the log (which is not chained).
public struct AuditRecord: Sendable, Hashable {
    public var requestID: String
    /// The identity the request named (nil when the row never verified: a hostile row's
    /// claims are not repeated as facts).
    public var user: String?
    /// The entry the identity resolved to, when the lookup got that far.
    public var userDN: String?
    /// The configured directory that holds the user (`[[directory]] name`), when known.
    public var directory: String?
    public var kind: String?
    /// `self` or `admin:NAME` (Initiator.auditName).
    public var initiator: String?
    /// The outcome code (`succeeded`, `not_managed`, …) and the row's state.
    public var outcome: String
    public var state: String
    public var detail: String?
    public var attempts: Int
    /// When the producer inserted the row, and when the daemon recorded the outcome.
    public var createdAt: Date
    public var completedAt: Date
    /// The daemon instance that decided (host:pid:random, as in the queue's `owner`).
    public var owner: String

    public init(requestID: String, user: String?, userDN: String?, directory: String?, kind: String?, initiator: String?,
                outcome: String, state: String, detail: String?, attempts: Int, createdAt: Date, completedAt: Date, owner: String) {
        self.requestID = requestID; self.user = user; self.userDN = userDN; self.directory = directory; self.kind = kind
        self.initiator = initiator; self.outcome = outcome; self.state = state; self.detail = detail; self.attempts = attempts
        self.createdAt = createdAt; self.completedAt = completedAt; self.owner = owner
    }

    /// The record's members in the order they are written (after `seq`, `prev`, `type`, `at`).
    var fields: [(String, AuditJSON)] {
        [
            ("request_id", .string(requestID)), ("user", .optional(user)), ("user_dn", .optional(userDN)),
            ("directory", .optional(directory)), ("kind", .optional(kind)), ("initiator", .optional(initiator)),
            ("outcome", .string(outcome)), ("state", .string(state)), ("detail", .optional(detail)),
            ("attempts", .int(attempts)), ("created_at", .string(AuditTime.format(createdAt))),
            ("completed_at", .string(AuditTime.format(completedAt))), ("owner", .string(owner)),
        ]
    }
}
