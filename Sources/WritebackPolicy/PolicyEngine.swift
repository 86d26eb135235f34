import Foundation
import WritebackCore

/// The eligibility and password rules of DESIGN.md, as pure functions of values: the request,
/// the user's directory facts, counters read by the caller. No I/O, so every branch is a
/// microsecond unit test.
///
/// The daemon calls, in order: `checkBeforeLookup` (sspr_disabled), the directory lookup
/// (not_managed, ambiguous_user), `checkEligibility` (not_in_scope ... throttled), then
/// `passwordViolations` (password_policy) for reset and change.
///
/// Decisions that the contract leaves open, documented here once:
/// - Method names, licence SKUs and group DNs compare case-insensitively.
/// - `not_registered` also covers a missing `registration_confirmed_at` while
///   `reconfirm_days > 0` (the portal cannot prove the registration is fresh).
/// - `throttle_per_hour = 0` disables throttling.
/// - A group of interest whose membership the directory could not decide (it does not exist,
///   or the service account may not read it) fails closed: an undecided protected group
///   protects (`protected_account`/`protected_group_unreadable`), an undecided sspr group does
///   not admit (`not_in_scope`/`sspr_group_unreadable` when no other sspr group admits).
/// - Refusals other than `password_policy` carry a short machine `detail` naming the sub-reason
///   (for example `registration_expired`); it never contains user data.
public struct PolicyEngine: Sendable {
    public let policy: PolicyConfig
    public let licenses: LicensesConfig
    public let banned: BannedPasswordList
    public let breached: BreachedPasswordList?

    /// Precomputed, normalised forms of the configuration's lists.
    private let allowedMethods: Set<String>
    private let eligibleSKUs: Set<String>
    private let ssprGroups: [String]
    private let protectedGroups: [String]

    public init(policy: PolicyConfig, licenses: LicensesConfig, banned: BannedPasswordList = .init(terms: []), breached: BreachedPasswordList? = nil) {
        self.policy = policy; self.licenses = licenses; self.banned = banned; self.breached = breached
        allowedMethods = Set(policy.allowedMethods.map { $0.lowercased() })
        eligibleSKUs = Set(licenses.eligible.map { $0.uppercased() })
        ssprGroups = policy.ssprGroups.map(DirectoryUser.normalize(dn:))
        protectedGroups = policy.protectedGroups.map(DirectoryUser.normalize(dn:))
    }

    /// The sub-reasons put in `detail` for refusals that are not `password_policy`.
    public enum Detail {
        public static let unlockDisabled = "unlock_disabled"
        public static let noAllowedMethodRegistered = "no_allowed_method_registered"
        public static let registrationUnconfirmed = "registration_unconfirmed"
        public static let registrationExpired = "registration_expired"
        public static let tooFewMethods = "too_few_methods"
        public static let methodNotRegistered = "method_not_registered"
        public static let adminCount = "admin_count"
        public static let protectedGroup = "protected_group"
        /// A protected group the service account cannot read (or that does not exist): the
        /// user might be in it, so they are treated as protected (fail closed; doctor says why).
        public static let protectedGroupUnreadable = "protected_group_unreadable"
        /// Not in any readable sspr group, and some sspr group cannot be read.
        public static let ssprGroupUnreadable = "sspr_group_unreadable"
    }

    /// `sspr_disabled` (scope `none`; `unlock` with `allow_unlock_without_reset = false`,
    /// detail `unlock_disabled`), or nil.
    public func checkBeforeLookup(_ request: ResetRequest) -> Outcome? {
        if policy.ssprScope == .none { return Outcome(.ssprDisabled) }
        if request.kind == .unlock && !policy.allowUnlockWithoutReset {
            return Outcome(.ssprDisabled, detail: Detail.unlockDisabled)
        }
        return nil
    }

    /// not_in_scope, not_licensed, not_registered, insufficient_verification, account_disabled,
    /// protected_account, throttled — the first that applies, or nil.
    /// `recentSuccesses`: this user's successful requests in the rolling hour before `now`.
    public func checkEligibility(_ request: ResetRequest, user: DirectoryUser, recentSuccesses: Int, now: Date) -> Outcome? {
        if policy.ssprScope == .selected && !ssprGroups.contains(where: user.memberOf.contains) {
            return ssprGroups.contains(where: user.undecidedGroups.contains)
                ? Outcome(.notInScope, detail: Detail.ssprGroupUnreadable) : Outcome(.notInScope)
        }
        if licenses.enforce && !request.licenses.contains(where: { eligibleSKUs.contains($0.uppercased()) }) {
            return Outcome(.notLicensed)
        }
        if !request.initiator.isAdmin {
            if let refusal = checkVerification(request.verification, now: now) { return refusal }
        }
        if user.disabled { return Outcome(.accountDisabled) }
        if user.adminCount { return Outcome(.protectedAccount, detail: Detail.adminCount) }
        if protectedGroups.contains(where: user.memberOf.contains) {
            return Outcome(.protectedAccount, detail: Detail.protectedGroup)
        }
        if protectedGroups.contains(where: user.undecidedGroups.contains) {
            return Outcome(.protectedAccount, detail: Detail.protectedGroupUnreadable)
        }
        if policy.throttlePerHour > 0 && recentSuccesses >= policy.throttlePerHour { return Outcome(.throttled) }
        return nil
    }

    /// `not_registered` then `insufficient_verification`, for a self-service request.
    private func checkVerification(_ verification: Verification?, now: Date) -> Outcome? {
        guard let verification else { return Outcome(.notRegistered, detail: Detail.noAllowedMethodRegistered) }
        let registered = Set(verification.registeredMethods.map { $0.lowercased() })
        if registered.isDisjoint(with: allowedMethods) {
            return Outcome(.notRegistered, detail: Detail.noAllowedMethodRegistered)
        }
        if policy.reconfirmDays > 0 {
            guard let confirmed = verification.registrationConfirmedAt else {
                return Outcome(.notRegistered, detail: Detail.registrationUnconfirmed)
            }
            if now.timeIntervalSince(confirmed) > Double(policy.reconfirmDays) * 86_400 {
                return Outcome(.notRegistered, detail: Detail.registrationExpired)
            }
        }
        let passed = Set(verification.methodsPassed.map { $0.lowercased() })
        if !passed.isSubset(of: registered) {
            return Outcome(.insufficientVerification, detail: Detail.methodNotRegistered)
        }
        if passed.intersection(allowedMethods).count < max(policy.methodsRequired, 1) {
            return Outcome(.insufficientVerification, detail: Detail.tooFewMethods)
        }
        return nil
    }

    /// Every password rule that fails, in the contract's order (the first is the detail).
    /// `inHistory`: the caller's verdict from the daemon's hashes and the directory's pwdHistory.
    /// Lengths count Unicode scalars (see `PasswordRules.length`).
    public func passwordViolations(_ password: String, user: DirectoryUser, inHistory: Bool, now: Date) -> [PasswordRule] {
        var failed: [PasswordRule] = []
        let scalars = Array(password.unicodeScalars)
        if scalars.count < policy.minLength { failed.append(.tooShort) }
        if policy.maxLength > 0 && scalars.count > policy.maxLength { failed.append(.tooLong) }
        if policy.complexity && !PasswordRules.meetsComplexity(scalars) { failed.append(.complexity) }
        if PasswordRules.containsUserName(scalars, accountName: user.accountName, displayName: user.displayName) {
            failed.append(.containsUserName)
        }
        if banned.isBanned(scalars) { failed.append(.banned) }
        if let breached, breached.contains(password: password) { failed.append(.breached) }
        if inHistory { failed.append(.history) }
        if policy.minAgeHours > 0, let changed = user.passwordChangedAt,
           now.timeIntervalSince(changed) < policy.minAgeHours * 3600 {
            failed.append(.tooYoung)
        }
        return failed
    }

    /// `passwordViolations` for a password held as a `Secret`; a password that is not valid
    /// UTF-8 fails `complexity` only (it cannot be judged character by character).
    public func passwordViolations(_ password: Secret, user: DirectoryUser, inHistory: Bool, now: Date) -> [PasswordRule] {
        guard let string = password.unsafeString() else { return [.complexity] }
        return passwordViolations(string, user: user, inHistory: inHistory, now: now)
    }

    /// This engine with `effective`'s password rules in place of `[policy]`'s (same lists,
    /// same eligibility rules): how a request is judged once the directory's policy is known.
    public func with(_ effective: EffectivePolicy) -> PolicyEngine {
        PolicyEngine(policy: effective.applied(to: policy), licenses: licenses, banned: banned, breached: breached)
    }

    /// The outcome for the first failing rule, or nil when the password passes.
    public static func outcome(for violations: [PasswordRule]) -> Outcome? {
        violations.first.map(Outcome.passwordPolicy)
    }
}
