import Foundation
import Testing
import WritebackCore
@testable import WritebackPolicy

/// Shared builders for the policy tests: a default policy, a user and a request that pass
/// every check, so each case changes exactly what it is about.
enum Fixture {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let ssprGroup = "CN=SSPR Users,OU=Groups,DC=example,DC=org"
    static let protectedGroup = "cn=Tier0,ou=groups,dc=example,dc=org"

    static func policy() -> PolicyConfig {
        var p = PolicyConfig()
        p.ssprGroups = [ssprGroup]
        p.protectedGroups = [protectedGroup]
        return p
    }

    static func user() -> DirectoryUser {
        DirectoryUser(dn: "uid=jdoe,ou=people,dc=example,dc=org", accountName: "jdoe", displayName: "Doe, Jane")
    }

    static func request(kind: RequestKind = .reset, initiator: Initiator = .user) -> ResetRequest {
        ResetRequest(
            id: "0b6f5f5e-2c53-4a4e-9a59-1d0e6f2f4c11", kind: kind, user: "jdoe", initiator: initiator,
            issuedAt: now, expiresAt: now.addingTimeInterval(600),
            verification: Verification(methodsPassed: ["email"], registeredMethods: ["email", "mobile_phone"],
                                       registrationConfirmedAt: now.addingTimeInterval(-86_400)),
            licenses: ["AAD_PREMIUM"])
    }

    static func engine(_ policy: PolicyConfig = policy(), licenses: LicensesConfig = .init(),
                       banned: BannedPasswordList = .init(terms: [])) -> PolicyEngine {
        PolicyEngine(policy: policy, licenses: licenses, banned: banned)
    }
}

/// One eligibility scenario: what differs from the passing fixture, and the expected outcome.
struct EligibilityCase: Sendable, CustomTestStringConvertible {
    var name: String
    var policy: @Sendable (inout PolicyConfig) -> Void = { _ in }
    var licenses: @Sendable (inout LicensesConfig) -> Void = { _ in }
    var request: @Sendable (inout ResetRequest) -> Void = { _ in }
    var user: @Sendable (inout DirectoryUser) -> Void = { _ in }
    var recent = 0
    var expected: Outcome?
    var testDescription: String { name }
}

@Suite struct EligibilityTests {
    static let day = 86_400.0

    static let cases: [EligibilityCase] = [
        .init(name: "baseline passes", expected: nil),
        // Scope
        .init(name: "scope all ignores groups", policy: { $0.ssprScope = .all; $0.ssprGroups = [] }, expected: nil),
        .init(name: "scope selected, not a member", policy: { $0.ssprScope = .selected }, expected: Outcome(.notInScope)),
        .init(name: "scope selected, member (DN case/space differ)", policy: { $0.ssprScope = .selected },
              user: { $0.memberOf = [DirectoryUser.normalize(dn: "cn=sspr users, ou=groups, dc=EXAMPLE, dc=org")] }, expected: nil),
        .init(name: "scope selected, member of another group only", policy: { $0.ssprScope = .selected },
              user: { $0.memberOf = ["cn=other,dc=example,dc=org"] }, expected: Outcome(.notInScope)),
        .init(name: "scope selected, empty group list", policy: { $0.ssprScope = .selected; $0.ssprGroups = [] }, expected: Outcome(.notInScope)),
        .init(name: "scope selected, second group matches",
              policy: { $0.ssprScope = .selected; $0.ssprGroups = ["cn=a,dc=x", "cn=b,dc=x"] },
              user: { $0.memberOf = ["cn=b,dc=x"] }, expected: nil),
        .init(name: "scope selected applies to admins", policy: { $0.ssprScope = .selected },
              request: { $0.initiator = .admin(name: "helpdesk") }, expected: Outcome(.notInScope)),
        // Licences
        .init(name: "no licence", request: { $0.licenses = [] }, expected: Outcome(.notLicensed)),
        .init(name: "ineligible licence only", request: { $0.licenses = ["O365_BUSINESS"] }, expected: Outcome(.notLicensed)),
        .init(name: "licence case-insensitive", request: { $0.licenses = ["spe_e3"] }, expected: nil),
        .init(name: "one eligible among several", request: { $0.licenses = ["FLOW_FREE", "EMS"] }, expected: nil),
        .init(name: "licences not enforced", licenses: { $0.enforce = false }, request: { $0.licenses = [] }, expected: nil),
        .init(name: "custom eligible list", licenses: { $0.eligible = ["MY_SKU"] }, request: { $0.licenses = ["AAD_PREMIUM"] }, expected: Outcome(.notLicensed)),
        .init(name: "admin needs a licence too", request: { $0.licenses = []; $0.initiator = .admin(name: "a") }, expected: Outcome(.notLicensed)),
        // Registration
        .init(name: "no verification block", request: { $0.verification = nil }, expected: Outcome(.notRegistered, detail: "no_allowed_method_registered")),
        .init(name: "nothing registered", request: { $0.verification?.registeredMethods = [] },
              expected: Outcome(.notRegistered, detail: "no_allowed_method_registered")),
        .init(name: "only disallowed method registered", policy: { $0.allowedMethods = ["email"] },
              request: { $0.verification?.registeredMethods = ["security_questions"]; $0.verification?.methodsPassed = ["security_questions"] },
              expected: Outcome(.notRegistered, detail: "no_allowed_method_registered")),
        .init(name: "registration date missing", request: { $0.verification?.registrationConfirmedAt = nil },
              expected: Outcome(.notRegistered, detail: "registration_unconfirmed")),
        .init(name: "registration date missing, never expires", policy: { $0.reconfirmDays = 0 },
              request: { $0.verification?.registrationConfirmedAt = nil }, expected: nil),
        .init(name: "registration exactly at reconfirm_days", request: { $0.verification?.registrationConfirmedAt = Fixture.now.addingTimeInterval(-180 * day) }, expected: nil),
        .init(name: "registration one second too old", request: { $0.verification?.registrationConfirmedAt = Fixture.now.addingTimeInterval(-180 * day - 1) },
              expected: Outcome(.notRegistered, detail: "registration_expired")),
        .init(name: "registration ancient, reconfirm 0", policy: { $0.reconfirmDays = 0 },
              request: { $0.verification?.registrationConfirmedAt = Date(timeIntervalSince1970: 0) }, expected: nil),
        .init(name: "admin skips registration", request: { $0.verification = nil; $0.initiator = .admin(name: "a") }, expected: nil),
        .init(name: "method names case-insensitive", request: { $0.verification?.registeredMethods = ["EMAIL"]; $0.verification?.methodsPassed = ["Email"] }, expected: nil),
        // Verification
        .init(name: "nothing passed", request: { $0.verification?.methodsPassed = [] },
              expected: Outcome(.insufficientVerification, detail: "too_few_methods")),
        .init(name: "passed a method not registered", request: { $0.verification?.methodsPassed = ["office_phone"] },
              expected: Outcome(.insufficientVerification, detail: "method_not_registered")),
        .init(name: "two required, one passed", policy: { $0.methodsRequired = 2 },
              expected: Outcome(.insufficientVerification, detail: "too_few_methods")),
        .init(name: "two required, same method twice", policy: { $0.methodsRequired = 2 },
              request: { $0.verification?.methodsPassed = ["email", "email"] },
              expected: Outcome(.insufficientVerification, detail: "too_few_methods")),
        .init(name: "two required, two distinct", policy: { $0.methodsRequired = 2 },
              request: { $0.verification?.methodsPassed = ["email", "mobile_phone"] }, expected: nil),
        .init(name: "two required, one of them not allowed", policy: { $0.methodsRequired = 2; $0.allowedMethods = ["email", "mobile_phone"] },
              request: { $0.verification?.registeredMethods = ["email", "security_questions"]; $0.verification?.methodsPassed = ["email", "security_questions"] },
              expected: Outcome(.insufficientVerification, detail: "too_few_methods")),
        .init(name: "passed a registered but disallowed method only", policy: { $0.allowedMethods = ["email"] },
              request: { $0.verification?.methodsPassed = ["mobile_phone"] },
              expected: Outcome(.insufficientVerification, detail: "too_few_methods")),
        .init(name: "admin skips verification", policy: { $0.methodsRequired = 2 },
              request: { $0.verification?.methodsPassed = []; $0.initiator = .admin(name: "a") }, expected: nil),
        // Account state
        .init(name: "disabled", user: { $0.disabled = true }, expected: Outcome(.accountDisabled)),
        .init(name: "disabled, admin initiated", request: { $0.initiator = .admin(name: "a") }, user: { $0.disabled = true }, expected: Outcome(.accountDisabled)),
        .init(name: "locked is not a refusal", user: { $0.locked = true }, expected: nil),
        .init(name: "adminCount", user: { $0.adminCount = true }, expected: Outcome(.protectedAccount, detail: "admin_count")),
        .init(name: "protected group", user: { $0.memberOf = [DirectoryUser.normalize(dn: Fixture.protectedGroup)] },
              expected: Outcome(.protectedAccount, detail: "protected_group")),
        .init(name: "protection applies to admins", request: { $0.initiator = .admin(name: "a") }, user: { $0.adminCount = true },
              expected: Outcome(.protectedAccount, detail: "admin_count")),
        .init(name: "protected group, admin initiated", request: { $0.initiator = .admin(name: "a") },
              user: { $0.memberOf = [DirectoryUser.normalize(dn: Fixture.protectedGroup)] }, expected: Outcome(.protectedAccount, detail: "protected_group")),
        // Undecided groups (unreadable or missing) fail closed.
        .init(name: "protected group unreadable protects", user: { $0.undecidedGroups = [DirectoryUser.normalize(dn: Fixture.protectedGroup)] },
              expected: Outcome(.protectedAccount, detail: "protected_group_unreadable")),
        .init(name: "protected membership beats unreadable", user: {
                  $0.memberOf = [DirectoryUser.normalize(dn: Fixture.protectedGroup)]; $0.undecidedGroups = [DirectoryUser.normalize(dn: Fixture.protectedGroup)] },
              expected: Outcome(.protectedAccount, detail: "protected_group")),
        .init(name: "an undecided group that is not protected does not protect", user: { $0.undecidedGroups = ["cn=other,dc=example,dc=org"] }, expected: nil),
        .init(name: "sspr group unreadable: not in scope, says why", policy: { $0.ssprScope = .selected },
              user: { $0.undecidedGroups = [DirectoryUser.normalize(dn: Fixture.ssprGroup)] },
              expected: Outcome(.notInScope, detail: "sspr_group_unreadable")),
        .init(name: "sspr: a readable group admits although another is unreadable",
              policy: { $0.ssprScope = .selected; $0.ssprGroups = ["cn=a,dc=x", "cn=b,dc=x"] },
              user: { $0.memberOf = ["cn=b,dc=x"]; $0.undecidedGroups = ["cn=a,dc=x"] }, expected: nil),
        .init(name: "sspr scope all ignores unreadable groups", user: { $0.undecidedGroups = [DirectoryUser.normalize(dn: Fixture.ssprGroup)] }, expected: nil),
        // Throttle
        .init(name: "throttle below limit", recent: 4, expected: nil),
        .init(name: "throttle at limit", recent: 5, expected: Outcome(.throttled)),
        .init(name: "throttle above limit", recent: 50, expected: Outcome(.throttled)),
        .init(name: "throttle 1", policy: { $0.throttlePerHour = 1 }, recent: 1, expected: Outcome(.throttled)),
        .init(name: "throttle 0 disables", policy: { $0.throttlePerHour = 0 }, recent: 1000, expected: nil),
        .init(name: "throttle applies to admins", request: { $0.initiator = .admin(name: "a") }, recent: 5, expected: Outcome(.throttled)),
        .init(name: "unlock request eligible", request: { $0.kind = .unlock }, expected: nil),
        // Precedence: every failing condition at once, peeled off one by one.
        .init(name: "scope beats everything", policy: { $0.ssprScope = .selected }, request: Self.breakRequest, user: Self.breakUser, recent: 99, expected: Outcome(.notInScope)),
        .init(name: "licence beats registration", request: Self.breakRequest, user: Self.breakUser, recent: 99, expected: Outcome(.notLicensed)),
        .init(name: "registration beats verification", request: { Self.breakRequest(&$0); $0.licenses = ["EMS"] }, user: Self.breakUser, recent: 99,
              expected: Outcome(.notRegistered, detail: "registration_expired")),
        .init(name: "verification beats disabled", request: { Self.breakRequest(&$0); $0.licenses = ["EMS"]; $0.verification?.registrationConfirmedAt = Fixture.now },
              user: Self.breakUser, recent: 99, expected: Outcome(.insufficientVerification, detail: "method_not_registered")),
        .init(name: "disabled beats protected", request: { $0.initiator = .admin(name: "a") }, user: Self.breakUser, recent: 99, expected: Outcome(.accountDisabled)),
        .init(name: "protected beats throttled", request: { $0.initiator = .admin(name: "a") }, user: { Self.breakUser(&$0); $0.disabled = false }, recent: 99,
              expected: Outcome(.protectedAccount, detail: "admin_count")),
        .init(name: "group protection beats throttled", user: { $0.memberOf = [DirectoryUser.normalize(dn: Fixture.protectedGroup)] }, recent: 99,
              expected: Outcome(.protectedAccount, detail: "protected_group")),
    ]

    @Sendable static func breakRequest(_ r: inout ResetRequest) {
        r.licenses = []
        r.verification = Verification(methodsPassed: ["office_phone"], registeredMethods: ["email"],
                                      registrationConfirmedAt: Fixture.now.addingTimeInterval(-1000 * day))
    }

    @Sendable static func breakUser(_ u: inout DirectoryUser) {
        u.disabled = true; u.adminCount = true
        u.memberOf = [DirectoryUser.normalize(dn: Fixture.protectedGroup)]
    }

    @Test(arguments: cases)
    func eligibility(_ c: EligibilityCase) {
        var policy = Fixture.policy(); c.policy(&policy)
        var licenses = LicensesConfig(); c.licenses(&licenses)
        var request = Fixture.request(); c.request(&request)
        var user = Fixture.user(); c.user(&user)
        let engine = Fixture.engine(policy, licenses: licenses)
        #expect(engine.checkBeforeLookup(request) == nil)
        #expect(engine.checkEligibility(request, user: user, recentSuccesses: c.recent, now: Fixture.now) == c.expected)
    }

    @Test(arguments: [
        (SSPRScope.none, RequestKind.reset, true, Outcome(.ssprDisabled)),
        (.none, .unlock, true, Outcome(.ssprDisabled)),
        (.none, .unlock, false, Outcome(.ssprDisabled)),
        (.all, .unlock, false, Outcome(.ssprDisabled, detail: "unlock_disabled")),
        (.selected, .unlock, false, Outcome(.ssprDisabled, detail: "unlock_disabled")),
        (.all, .reset, false, nil),
        (.all, .change, false, nil),
        (.all, .unlock, true, nil),
        (.selected, .reset, true, nil),
    ] as [(SSPRScope, RequestKind, Bool, Outcome?)])
    func beforeLookup(scope: SSPRScope, kind: RequestKind, allowUnlock: Bool, expected: Outcome?) {
        var policy = Fixture.policy()
        policy.ssprScope = scope
        policy.allowUnlockWithoutReset = allowUnlock
        #expect(Fixture.engine(policy).checkBeforeLookup(Fixture.request(kind: kind)) == expected)
        #expect(Fixture.engine(policy).checkBeforeLookup(Fixture.request(kind: kind, initiator: .admin(name: "x"))) == expected)
    }
}
