import Foundation
import WritebackCore

/// The password rules one request is decided with: the stricter of `[policy]` and what the
/// directory applies to this user (`DirectoryPasswordPolicy`), so a password the directory would
/// refuse is refused first, by name, without a round trip. It also names the rule behind a
/// refusal the directory does not explain (AD's `0000052D`). Pure: no I/O.
///
/// Decisions, documented once:
/// - Each rule takes the stricter value: the larger minimum length, complexity if either asks,
///   the larger history, the larger minimum age.
/// - The daemon's own history (`historyCount`, salted hashes it keeps) grows to the directory's
///   history length only where the directory keeps none on this daemon's resets (AD without the
///   policy-hints control, e.g. Samba): there `history_count` never enforces less than the
///   domain's `pwdHistoryLength`. Where the directory applies its history itself (ppolicy; AD
///   with hints), `history_count` stays as configured and `history` is checked against the
///   entry's `pwdHistory` where there is one, which costs no derivation.
/// - The directory's minimum age counts where the directory applies it: AD to the user's own
///   change only, OpenLDAP ppolicy to resets by the (non-`manage`) service account too.
///   `[policy] min_age_hours` applies to every kind, as before.
/// - `source` names the directory's policy whenever one was read (its values combined with
///   `[policy]`), and `config` when none was.
public struct EffectivePolicy: Sendable, Hashable {
    public var minLength: Int
    public var complexity: Bool
    /// How many of its own hashes the daemon checks and keeps.
    public var historyCount: Int
    /// The history the user meets: the larger of `history_count` and the directory's.
    public var history: Int
    public var minAgeHours: Double
    /// `pso:<dn>`, `domain`, `ppolicy:<dn>` or `config`.
    public var source: String
    /// What the directory said, when it said anything.
    public var directory: DirectoryPasswordPolicy?

    /// `kind` nil: the policy as a user changing their own password meets it (the directory's
    /// minimum age included), for `check-password`'s description.
    public init(config: PolicyConfig, directory: DirectoryPasswordPolicy?, kind: RequestKind? = nil) {
        self.directory = directory
        guard let d = directory else {
            minLength = config.minLength; complexity = config.complexity
            historyCount = config.historyCount; history = config.historyCount; minAgeHours = config.minAgeHours; source = "config"
            return
        }
        minLength = max(config.minLength, d.minLength)
        complexity = config.complexity || d.complexity
        history = max(config.historyCount, d.historyLength)
        historyCount = d.historyOnReset ? config.historyCount : history
        let ageApplies = kind != .reset || d.minAgeOnReset
        minAgeHours = max(config.minAgeHours, ageApplies ? d.minAge / 3600 : 0)
        source = d.source.name
    }

    /// `config` with these rules in place of its own (the engine then judges with them).
    public func applied(to config: PolicyConfig) -> PolicyConfig {
        var p = config
        p.minLength = minLength
        if p.maxLength > 0 && p.maxLength < minLength { p.maxLength = minLength }
        p.complexity = complexity
        p.historyCount = historyCount
        p.minAgeHours = minAgeHours
        return p
    }

    /// The rule that explains a refusal the directory gave without a reason (AD `0000052D`,
    /// or a constraint violation without the ppolicy control), for a write of `kind`:
    /// a rule of the directory's policy that `password` certainly breaks, in the contract's
    /// order; else the one rule that could explain it unseen (the directory's history, where
    /// it applies to this write); `directoryRule` when nothing, or more than one, could.
    public func explainRefusal(of password: String, user: DirectoryUser, kind: RequestKind, now: Date) -> PasswordRule {
        guard let d = directory else { return .directoryRule }
        let scalars = Array(password.unicodeScalars)
        if scalars.count < d.minLength { return .tooShort }
        if d.complexity {
            if !PasswordRules.meetsComplexity(scalars) { return .complexity }
            if PasswordRules.containsUserName(scalars, accountName: user.accountName, displayName: user.displayName) { return .containsUserName }
        }
        if d.minAge > 0, kind == .change || d.minAgeOnReset, let changed = user.passwordChangedAt,
           now.timeIntervalSince(changed) < d.minAge {
            return .tooYoung
        }
        var possible: [PasswordRule] = []
        if d.historyLength > 0, kind == .change || d.historyOnReset { possible.append(.history) }
        return possible.count == 1 ? possible[0] : .directoryRule
    }
}
