import Foundation

/// The facts about one account that the policy engine and the notifier need, read from the
/// directory in one lookup. Everything here came from the directory, so `dn` is safe to use.
public struct DirectoryUser: Sendable, Hashable {
    public var dn: String
    /// sAMAccountName (AD) or uid (OpenLDAP): the name `contains_user_name` checks.
    public var accountName: String
    public var displayName: String?
    /// `mail` values.
    public var mail: [String]
    /// `otherMailbox` (AD) or `[directory] alternate_mail_attribute`.
    public var alternateMail: [String]
    /// AD: userAccountControl bit 0x2. OpenLDAP: never (no standard flag).
    public var disabled: Bool
    /// AD: msDS-User-Account-Control-Computed bit 0x10. OpenLDAP: pwdAccountLockedTime present.
    public var locked: Bool
    /// adminCount = 1 (AD; on OpenLDAP if the attribute exists).
    public var adminCount: Bool
    /// The configured groups of interest (sspr_groups, protected_groups) this user belongs to,
    /// nested membership included, as DNs normalised by `DirectoryUser.normalize(dn:)`.
    public var memberOf: Set<String>
    /// Groups of interest whose membership could not be decided: the group does not exist or
    /// the service account may not read it (or its `member` values). Normalised like
    /// `memberOf`. The policy fails closed on them: an undecided protected group protects.
    public var undecidedGroups: Set<String> = []
    /// The directory's own marker of the last password write, as its raw attribute value:
    /// AD `pwdLastSet` (FILETIME string), OpenLDAP `pwdChangedTime` (generalized time).
    /// Recorded as the write intent; a different value on readback means the write happened.
    public var passwordStamp: String?
    /// When the password was last set, when the directory says (for `too_young`).
    public var passwordChangedAt: Date?
    /// OpenLDAP `pwdHistory` values as stored (`time#syntax#len#{SCHEME}hash`), for the
    /// daemon's own history check (ppolicy lets a password administrator skip it).
    public var passwordHistory: [String]
    /// Whether the entry is flagged must-change-at-next-logon as read at lookup (OpenLDAP
    /// `pwdReset: TRUE`); nil when not read. A write skips clearing a flag that is not there.
    public var mustChangeFlagged: Bool?
    /// OpenLDAP: the entry's `pwdPolicySubentry` as read at lookup (nil: the default policy
    /// applies). AD reads `msDS-ResultantPSO` separately (it is constructed).
    public var passwordPolicyDN: String? = nil

    public init(
        dn: String, accountName: String, displayName: String? = nil, mail: [String] = [],
        alternateMail: [String] = [], disabled: Bool = false, locked: Bool = false,
        adminCount: Bool = false, memberOf: Set<String> = [], passwordStamp: String? = nil,
        passwordChangedAt: Date? = nil, passwordHistory: [String] = [], mustChangeFlagged: Bool? = nil
    ) {
        self.dn = dn; self.accountName = accountName; self.displayName = displayName
        self.mail = mail; self.alternateMail = alternateMail; self.disabled = disabled
        self.locked = locked; self.adminCount = adminCount; self.memberOf = memberOf
        self.passwordStamp = passwordStamp; self.passwordChangedAt = passwordChangedAt
        self.passwordHistory = passwordHistory; self.mustChangeFlagged = mustChangeFlagged
    }

    /// Group DNs compare case-insensitively and without spaces after commas.
    public static func normalize(dn: String) -> String {
        dn.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.joined(separator: ",")
    }

    public func isMember(of groupDN: String) -> Bool { memberOf.contains(Self.normalize(dn: groupDN)) }
}

/// Why a directory operation did not do what was asked. Cases name the cause and carry what an
/// operator needs; none carries a password. `message` is the server's diagnostic text.
public enum DirectoryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No configured URI answered (connect failed, TLS failed, server down).
    case unavailable(String)
    /// The call was sent but no answer came in time: the write may or may not have happened.
    case timedOut(String)
    /// The service account lacks the right (LDAP 50, AD SecErr).
    case permission(String)
    /// The directory refused the password; the rule when the server says which one
    /// (ppolicy), `.directoryRule` when it does not (AD 0000052D).
    case passwordRejected(PasswordRule, String)
    /// The old password given for a change is wrong.
    case wrongOldPassword(String)
    /// The identity matched no entry under the base.
    case notFound
    /// The identity matched several entries.
    case ambiguous(count: Int)
    /// A transient server condition (busy, unavailable, other side closed) worth retrying.
    case transient(String)
    /// The service account's own bind failed (wrong password, expired keytab, ...).
    case bindFailed(String)
    /// Anything else: the LDAP result code and the server's message.
    case other(code: Int32, message: String)

    public var description: String {
        switch self {
        case .unavailable(let m): "directory unavailable: \(m)"
        case .timedOut(let m): "directory call timed out (outcome unknown): \(m)"
        case .permission(let m): "insufficient access rights: \(m)"
        case .passwordRejected(let r, let m): "password refused by the directory (\(r.rawValue)): \(m)"
        case .wrongOldPassword(let m): "wrong old password: \(m)"
        case .notFound: "no such user"
        case .ambiguous(let n): "identity matches \(n) entries"
        case .transient(let m): "transient directory error: \(m)"
        case .bindFailed(let m): "service account bind failed: \(m)"
        case .other(let c, let m): "LDAP error \(c): \(m)"
        }
    }

    /// The outcome a request ends with when this error is final.
    public var outcome: Outcome {
        switch self {
        case .unavailable: Outcome(.directoryUnavailable)
        case .timedOut(let m), .transient(let m): Outcome(.directoryError, detail: m)
        case .permission: Outcome(.directoryPermission)
        case .passwordRejected(let rule, _): .passwordPolicy(rule)
        case .wrongOldPassword: Outcome(.wrongOldPassword)
        case .notFound: Outcome(.notManaged)
        case .ambiguous: Outcome(.ambiguousUser)
        case .bindFailed: Outcome(.directoryPermission, detail: "service account bind failed")
        case .other(let code, _): Outcome(.directoryError, detail: "ldap_rc=\(code)")
        }
    }

    /// Whether a later attempt may succeed (counts against `max_attempts`; `.unavailable`
    /// does not count, see DESIGN.md "Outage").
    public var isTransient: Bool {
        switch self {
        case .unavailable, .timedOut, .transient: true
        default: false
        }
    }
}
