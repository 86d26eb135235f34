import Foundation

/// What the daemon writes, as one value: the engine decides, the directory applies.
public struct PasswordWrite: Sendable {
    public var kind: RequestKind
    public var newPassword: Secret?
    /// For `.change`: the user's current password, checked by the directory.
    public var oldPassword: Secret?
    /// Unlock as part of this write (a reset with `unlock: true`, or an unlock request).
    public var unlock: Bool
    /// Set must-change-at-next-logon (AD pwdLastSet=0, OpenLDAP pwdReset=TRUE); when false a
    /// reset clears it (AD pwdLastSet=-1, OpenLDAP no pwdReset).
    public var mustChange: Bool

    public init(kind: RequestKind, newPassword: Secret?, oldPassword: Secret?, unlock: Bool, mustChange: Bool) {
        self.kind = kind; self.newPassword = newPassword; self.oldPassword = oldPassword
        self.unlock = unlock; self.mustChange = mustChange
    }
}

/// Health of one configured directory endpoint, for `status` and metrics.
public struct EndpointHealth: Sendable, Hashable, Codable {
    public var uri: String
    public var up: Bool
    public var lastError: String?
    public init(uri: String, up: Bool, lastError: String?) { self.uri = uri; self.up = up; self.lastError = lastError }
}

/// Whether a write whose outcome was unknown (timeout, crash between write and record) happened.
public enum ReadbackVerdict: Sendable, Hashable {
    case applied
    case notApplied
}

/// The directory as the engine sees it: Active Directory and OpenLDAP implement it over
/// libldap; nothing here exposes LDAP types. All methods may block for up to
/// `timeout_seconds` on a dedicated connection thread, never on the cooperative pool.
public protocol PasswordDirectory: Sendable {
    /// Finds the one entry whose identity attributes equal `identity` (escaped per RFC 4515)
    /// and reads its facts. `groupsOfInterest` are the group DNs whose (nested) membership
    /// the caller needs; the result's `memberOf` holds those the user belongs to.
    /// Throws `.notFound`, `.ambiguous`, or a transport error.
    func findUser(identity: String, groupsOfInterest: [String]) async throws(DirectoryError) -> DirectoryUser

    /// Applies `write` to `user`. Throws `DirectoryError` for every refusal.
    func apply(_ write: PasswordWrite, to user: DirectoryUser) async throws(DirectoryError)

    /// After a write with an unknown outcome: reads the entry back and decides.
    /// `intentStamp` is `user.passwordStamp` as recorded before the write;
    /// `newPassword` lets OpenLDAP compare the stored hash exactly.
    func readBack(user: DirectoryUser, intentStamp: String?, newPassword: Secret?) async throws(DirectoryError) -> ReadbackVerdict

    /// Current health of each configured URI.
    func health() async -> [EndpointHealth]

    /// The executor that worker `worker`'s task should prefer, so that its directory calls
    /// stay on one connection's thread instead of hopping threads for every call; nil: none.
    func taskExecutor(forWorker worker: Int) -> (any TaskExecutor)?

    /// The password rules the directory applies to `user` (AD: the resultant PSO, else the
    /// domain; OpenLDAP: `pwdPolicySubentry`, else the default policy), nil when the
    /// directory has none or the service account may not read it. Cached for a few minutes.
    /// Throws only when the directory does not answer.
    func effectivePolicy(for user: DirectoryUser) async throws(DirectoryError) -> DirectoryPasswordPolicy?

    /// Forgets what was cached from the directory (group readability, naming contexts,
    /// password policies), so the next request reads it afresh. Called on SIGHUP.
    func clearCaches()
}

extension PasswordDirectory {
    public func taskExecutor(forWorker worker: Int) -> (any TaskExecutor)? { nil }
    public func clearCaches() {}
    public func effectivePolicy(for user: DirectoryUser) async throws(DirectoryError) -> DirectoryPasswordPolicy? { nil }
}

/// A queue row as claimed by the daemon. `payload` and `signature` are untrusted until the
/// codec verifies them.
public struct ClaimedRequest: Sendable {
    public var id: String
    public var payload: Data
    public var signature: String
    /// Attempts that reached a directory and failed transiently so far.
    public var attempts: Int
    public var createdAt: Date
    /// Set when a previous claim recorded that it was about to write: the write may have
    /// happened. Holds `DirectoryUser.passwordStamp` as it was before that write ("" if none).
    public var intentStamp: String?
    public var intentRecorded: Bool
    /// True when no daemon has held the row before: it is pending, was never given back
    /// (no attempt, no `last_error`) and records no intent. The pick-up delay (created →
    /// claimed) is measured on these only, so a row given back and claimed again is not
    /// counted twice.
    public var firstClaim: Bool

    public init(id: String, payload: Data, signature: String, attempts: Int, createdAt: Date, intentStamp: String?, intentRecorded: Bool,
                firstClaim: Bool = false) {
        self.id = id; self.payload = payload; self.signature = signature; self.attempts = attempts
        self.createdAt = createdAt; self.intentStamp = intentStamp; self.intentRecorded = intentRecorded
        self.firstClaim = firstClaim
    }
}

/// The `last_error` a queue writes when it gives rows back by itself. Exists so both backends
/// say the same, and so a row given back is never taken for one no daemon has held
/// (`ClaimedRequest.firstClaim`).
public enum ReleaseReason {
    /// Given back by `releaseAll` when its daemon stopped (SIGTERM).
    public static func shutdown(owner: String) -> String { "given back when daemon \(owner) stopped" }
}

/// A request as the control socket and `result` show it: no payload, no secret.
public struct RequestSummary: Sendable, Hashable, Codable {
    public var id: String
    public var state: RequestState
    public var outcome: String?
    public var detail: String?
    public var attempts: Int
    public var createdAt: Date
    public var completedAt: Date?
    /// The configured directory the daemon routed the request to; nil until it did (or when
    /// no directory owns the user).
    public var directory: String?
    /// The daemon (lease owner) holding the row while in progress, or the one that recorded
    /// its outcome once terminal; nil while pending.
    public var owner: String?

    public init(id: String, state: RequestState, outcome: String?, detail: String?, attempts: Int, createdAt: Date, completedAt: Date?,
                directory: String? = nil, owner: String? = nil) {
        self.id = id; self.state = state; self.outcome = outcome; self.detail = detail
        self.attempts = attempts; self.createdAt = createdAt; self.completedAt = completedAt
        self.directory = directory; self.owner = owner
    }
}

/// The durable queue (`reset_requests`). SQLite now, PostgreSQL later: no storage type leaks.
public protocol RequestQueueStore: Sendable {
    /// Claims up to `limit` pending rows (or rows whose lease expired) for `owner`, leasing
    /// them for `lease`. Rows whose `not_before` is in the future are skipped, and so are rows
    /// already routed (`directory`) to one of `skippingDirectories`: directories whose every
    /// connection is busy, so their backlog is not claimed and given back over and over ahead
    /// of other directories' newer rows (head-of-line blocking under slow commits).
    func claim(limit: Int, owner: String, lease: Duration, now: Date, skippingDirectories: [String]) async throws -> [ClaimedRequest]
    /// Durably records, before the directory write, that the write is about to happen.
    /// `userKey` names the directory account being written (`RequestProcessor.userKey`): while
    /// a row holds an intent for it (in progress, or given back with its write's outcome
    /// unknown), no other row's intent for it is recorded; that throws `userBusy` instead.
    /// So two daemons on one queue (or two spellings of one user in one daemon) never write
    /// one account at once, and a write whose outcome is unknown is settled before the next.
    func recordIntent(id: String, owner: String, stamp: String?, userKey: String?) async throws
    /// Makes the request terminal with `outcome`: redacts the sealed fields of `payload`,
    /// clears `signature`, sets `completed_at`, in one transaction. `directory`: the
    /// configured directory it was routed to (shown by `requests`), nil to leave it.
    func complete(id: String, owner: String, outcome: Outcome, directory: String?, now: Date) async throws
    /// Gives the row back: `pending` again, not before `notBefore`. `countAttempt` says whether
    /// this was an attempt that reached a directory. `lastError` is shown in `requests`;
    /// `directory` as for `complete`. `withdrawingIntent`: the row's intent is cleared too (the
    /// daemon recorded it, then gave the row back without attempting the write).
    func release(id: String, owner: String, notBefore: Date, countAttempt: Bool, lastError: String?, directory: String?,
                 withdrawingIntent: Bool) async throws
    /// Releases every row `owner` still holds (shutdown).
    func releaseAll(owner: String) async throws
    /// Extends to `now + lease` the lease of a row `owner` still holds in progress, so a slow
    /// request is not claimed a second time; throws when the row is no longer held.
    func renewLease(id: String, owner: String, lease: Duration, now: Date) async throws
    func summary(id: String) async throws -> RequestSummary?
    /// Newest first; `owner` keeps the rows whose owner (`RequestSummary.owner`) starts with it
    /// (a whole owner name, or `host:pid`, or `host`).
    func list(state: RequestState?, owner: String?, limit: Int) async throws -> [RequestSummary]
    /// The in-progress rows per lease owner, with up to `idsPerOwner` ids each.
    func holdings(idsPerOwner: Int) async throws -> [LeaseHolding]
    /// The earliest moment after `now` at which a row that is not claimable now becomes
    /// claimable (a pending row's `not_before`, another owner's lease running out); nil: none.
    /// The poller sleeps no longer than this, so a backoff or a dead daemon's lease does not
    /// wait for the safety-net poll.
    func nextDue(now: Date) async throws -> Date?
    func counts() async throws -> [RequestState: Int]
    /// Age of the oldest pending row.
    func oldestPending(now: Date) async throws -> TimeInterval?
    /// Inserts a producer row (`id`, `payload`, `signature` only), as a portal does; for
    /// `writebackctl enqueue` and tests. Throws when the id is queued already.
    func enqueue(id: String, payload: Data, signature: String) async throws
    /// Deletes terminal rows past the retention period; returns how many.
    @discardableResult
    func pruneTerminal(now: Date) async throws -> Int
}

extension RequestQueueStore {
    /// `claim` skipping no directory.
    public func claim(limit: Int, owner: String, lease: Duration, now: Date) async throws -> [ClaimedRequest] {
        try await claim(limit: limit, owner: owner, lease: lease, now: now, skippingDirectories: [])
    }

    /// `complete` without naming a directory.
    public func complete(id: String, owner: String, outcome: Outcome, now: Date) async throws {
        try await complete(id: id, owner: owner, outcome: outcome, directory: nil, now: now)
    }

    /// `release` without naming a directory.
    public func release(id: String, owner: String, notBefore: Date, countAttempt: Bool, lastError: String?) async throws {
        try await release(id: id, owner: owner, notBefore: notBefore, countAttempt: countAttempt, lastError: lastError, directory: nil,
                          withdrawingIntent: false)
    }

    public func list(state: RequestState?, limit: Int) async throws -> [RequestSummary] {
        try await list(state: state, owner: nil, limit: limit)
    }
}

/// Salted slow hashes of the passwords the daemon set for one user (DESIGN.md: one salt per
/// user, so a check costs one derivation).
public struct PasswordHistoryRecord: Sendable, Hashable {
    public var salt: Data
    /// Newest first.
    public var hashes: [Data]
    public init(salt: Data, hashes: [Data]) { self.salt = salt; self.hashes = hashes }
}

/// The daemon's own durable state, never readable by the portal: ids seen (replay), throttle
/// counters, password history.
public protocol StateStore: Sendable {
    func hasSeen(id: String) async throws -> Bool
    func markSeen(id: String, until expiresAt: Date) async throws
    func successCount(userDN: String, since: Date) async throws -> Int
    func recordSuccess(userDN: String, at: Date) async throws
    func history(userDN: String) async throws -> PasswordHistoryRecord?
    /// Stores `hash` (derived with `salt`) as the newest entry and keeps at most `keep`.
    func appendHistory(userDN: String, salt: Data, hash: Data, keep: Int) async throws
    /// Drops replay ids whose expiry has passed.
    func prune(now: Date) async throws
    /// Everything a terminal request leaves in the state store, in one call: the id as seen,
    /// and for a success the throttle count and the history entry. A store that can makes it
    /// one transaction (one commit, not three); the default calls the methods above in order.
    func recordFinished(_ record: FinishedRecord) async throws
}

/// What the state store keeps of one terminal request (`StateStore.recordFinished`).
public struct FinishedRecord: Sendable {
    /// The request id and its expiry, for replay detection; nil: nothing to remember.
    public var seen: (id: String, until: Date)?
    /// A success: the user and when (throttling).
    public var success: (userDN: String, at: Date)?
    /// The new password's history entry and how many to keep.
    public var history: (salt: Data, hash: Data, keep: Int)?

    public init(seen: (id: String, until: Date)?, success: (userDN: String, at: Date)?, history: (salt: Data, hash: Data, keep: Int)?) {
        self.seen = seen; self.success = success; self.history = history
    }
}

extension StateStore {
    public func recordFinished(_ record: FinishedRecord) async throws {
        if let seen = record.seen { try await markSeen(id: seen.id, until: seen.until) }
        if let success = record.success {
            try await recordSuccess(userDN: success.userDN, at: success.at)
            if let h = record.history { try await appendHistory(userDN: success.userDN, salt: h.salt, hash: h.hash, keep: h.keep) }
        }
    }
}

/// One confirmation to send after a request succeeded. Never holds a password.
public struct Confirmation: Sendable, Hashable {
    public var requestId: String
    public var kind: RequestKind
    /// A reset that also unlocked.
    public var unlocked: Bool
    public var mustChange: Bool
    public var initiator: Initiator
    public var accountName: String
    public var displayName: String?
    public var mail: [String]
    public var alternateMail: [String]
    public var locale: String?
    public var at: Date

    public init(requestId: String, kind: RequestKind, unlocked: Bool, mustChange: Bool, initiator: Initiator, accountName: String, displayName: String?, mail: [String], alternateMail: [String], locale: String?, at: Date) {
        self.requestId = requestId; self.kind = kind; self.unlocked = unlocked; self.mustChange = mustChange
        self.initiator = initiator; self.accountName = accountName; self.displayName = displayName
        self.mail = mail; self.alternateMail = alternateMail; self.locale = locale; self.at = at
    }
}

/// Writes confirmations to the outbox. Must be idempotent per `requestId`: a request never
/// produces its messages twice, also when called again after a crash.
public protocol ConfirmationNotifier: Sendable {
    func confirm(_ confirmation: Confirmation) async throws
}
