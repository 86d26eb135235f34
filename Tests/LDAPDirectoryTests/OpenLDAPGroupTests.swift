import Foundation
import Testing
import TestSupport
import WritebackCore
import WritebackPolicy
@testable import LDAPDirectory

/// Groups outside `base_dn` (issue 12): users in ou=people with `base_dn = "ou=people,…"`,
/// groups in ou=groups, against a real slapd with and without the memberof overlay. Every
/// row is decided twice by the policy engine — once with the group as the only `sspr_groups`
/// entry (scope), once as the only `protected_groups` entry (protection) — and the table is
/// printed for the log.
@Suite("OpenLDAP groups outside base_dn")
struct OpenLDAPGroupTests {
    /// user, group cn, what it exercises, and the outcomes (nil: passes) for scope and protection,
    /// without and with the memberof overlay.
    struct Row: Sendable {
        var user: String
        var group: String
        var what: String
        var scope: Outcome?
        var protection: Outcome?
        /// With memberOf, when it differs.
        var scopeWithMemberOf: Outcome??
        var protectionWithMemberOf: Outcome??
    }

    static let notInScope = Outcome(.notInScope)
    static let protected = Outcome(.protectedAccount, detail: "protected_group")
    static let rows: [Row] = [
        Row(user: "bob", group: "sspr-users", what: "direct", scope: nil, protection: protected),
        Row(user: "alice", group: "tier2", what: "depth 1", scope: nil, protection: protected),
        Row(user: "alice", group: "helpdesk", what: "depth 2", scope: nil, protection: protected),
        Row(user: "alice", group: "sspr-users", what: "depth 3", scope: nil, protection: protected),
        Row(user: "grace", group: "chain2", what: "depth 2", scope: nil, protection: protected),
        Row(user: "grace", group: "chain8", what: "depth 8", scope: nil, protection: protected),
        Row(user: "grace", group: "chain9", what: "depth 9: beyond the bound", scope: notInScope, protection: nil),
        Row(user: "frank", group: "loop-b", what: "cycle loop-a ⇄ loop-b", scope: nil, protection: protected),
        Row(user: "bob", group: "admins", what: "not a member", scope: notInScope, protection: nil),
        Row(user: "erin", group: "restricted", what: "member of an unreadable group",
            scope: Outcome(.notInScope, detail: "sspr_group_unreadable"), protection: Outcome(.protectedAccount, detail: "protected_group_unreadable"),
            scopeWithMemberOf: .some(nil), protectionWithMemberOf: protected),
        Row(user: "bob", group: "restricted", what: "not a member of an unreadable group",
            scope: Outcome(.notInScope, detail: "sspr_group_unreadable"), protection: Outcome(.protectedAccount, detail: "protected_group_unreadable")),
        Row(user: "erin", group: "above-restricted", what: "through an unreadable group",
            scope: notInScope, protection: nil,   // unseen without memberOf: the service account must read the path
            scopeWithMemberOf: .some(nil), protectionWithMemberOf: protected),
        Row(user: "carol", group: "no-such-group", what: "a group that does not exist",
            scope: Outcome(.notInScope, detail: "sspr_group_unreadable"), protection: Outcome(.protectedAccount, detail: "protected_group_unreadable")),
    ]

    static func outcome(_ engine: PolicyEngine, _ user: DirectoryUser) -> Outcome? {
        let request = ResetRequest(id: UUID().uuidString.lowercased(), kind: .reset, user: user.accountName, initiator: .admin(name: "t"),
                                   issuedAt: Date(), expiresAt: Date().addingTimeInterval(600), verification: nil, licenses: ["AAD_PREMIUM"])
        return engine.checkEligibility(request, user: user, recentSuccesses: 0, now: Date())
    }

    static func show(_ o: Outcome?) -> String { o.map { $0.detail.map { "\(o!.code.rawValue)/\($0)" } ?? $0.code.rawValue } ?? "ok" }

    @Test("scope and protection through nested groups in ou=groups, base_dn = ou=people", arguments: [false, true])
    func table(memberOf: Bool) async throws {
        try await withSlapd(memberOf: memberOf) { slapd in
            // No group_base_dn: the naming context that holds base_dn (dc=example,dc=org).
            let dir = try OpenLDAPFixture.service(slapd, baseDN: slapd.peopleDN)
            defer { Task { await dir.shutdown() } }
            var lines = ["memberOf overlay: \(memberOf ? "on" : "off")",
                         "user   group              case                                   scope (sspr_groups)                    protection (protected_groups)"]
            for row in Self.rows {
                let g = slapd.groupDN(row.group)
                let user = try await dir.findUser(identity: row.user, groupsOfInterest: [g])
                var scopePolicy = PolicyConfig(); scopePolicy.ssprScope = .selected; scopePolicy.ssprGroups = [g]
                var protectPolicy = PolicyConfig(); protectPolicy.protectedGroups = [g]
                let scope = Self.outcome(PolicyEngine(policy: scopePolicy, licenses: LicensesConfig()), user)
                let protection = Self.outcome(PolicyEngine(policy: protectPolicy, licenses: LicensesConfig()), user)
                let wantScope = memberOf ? (row.scopeWithMemberOf ?? row.scope) : row.scope
                let wantProtection = memberOf ? (row.protectionWithMemberOf ?? row.protection) : row.protection
                #expect(scope == wantScope, "\(row.user) in \(row.group) (\(row.what)), memberOf \(memberOf): scope")
                #expect(protection == wantProtection, "\(row.user) in \(row.group) (\(row.what)), memberOf \(memberOf): protection")
                lines.append([row.user.padding(toLength: 6, withPad: " ", startingAt: 0), row.group.padding(toLength: 18, withPad: " ", startingAt: 0),
                              row.what.padding(toLength: 38, withPad: " ", startingAt: 0), Self.show(scope).padding(toLength: 38, withPad: " ", startingAt: 0),
                              Self.show(protection)].joined(separator: " "))
            }
            print(lines.joined(separator: "\n"))
        }
    }

    @Test("group_base_dn: explicit, default, and a wrong one that finds no group but still finds the user", arguments: [false, true])
    func groupBase(memberOf: Bool) async throws {
        try await withSlapd(memberOf: memberOf) { slapd in
            let sspr = slapd.groupDN("sspr-users")
            let explicit = try OpenLDAPFixture.service(slapd, baseDN: slapd.peopleDN, groupBaseDN: slapd.groupsDN)
            #expect(try await explicit.findUser(identity: "alice", groupsOfInterest: [sspr]).isMember(of: sspr))
            await explicit.shutdown()
            // The old behaviour, groups searched under base_dn: nothing above the first level.
            let under = try OpenLDAPFixture.service(slapd, baseDN: slapd.peopleDN, groupBaseDN: slapd.peopleDN)
            let alice = try await under.findUser(identity: "alice", groupsOfInterest: [sspr])
            #expect(!alice.isMember(of: sspr) && alice.undecidedGroups.isEmpty)
            await under.shutdown()
            let wrong = try OpenLDAPFixture.service(slapd, baseDN: slapd.peopleDN, groupBaseDN: "ou=nothing,\(slapd.baseDN)")
            let again = try await wrong.findUser(identity: "alice", groupsOfInterest: [sspr])
            #expect(again.dn == slapd.userDN("alice") && !again.isMember(of: sspr))
            await wrong.shutdown()
        }
    }

    @Test("a group made readable is seen after clearCaches (SIGHUP), not before the cache expires")
    func readabilityCache() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd, baseDN: slapd.peopleDN)
            defer { Task { await dir.shutdown() } }
            let late = slapd.groupDN("late")
            let before = try await dir.findUser(identity: "dave", groupsOfInterest: [late])
            #expect(before.undecidedGroups == [DirectoryUser.normalize(dn: late)])
            try slapd.modify(ldif: "dn: \(late)\nobjectClass: groupOfNames\ncn: late\nmember: \(slapd.userDN("dave"))\n", add: true)
            #expect(try await dir.findUser(identity: "dave", groupsOfInterest: [late]).isMember(of: late), "membership is never cached")
            let carol = try await dir.findUser(identity: "carol", groupsOfInterest: [late])
            #expect(carol.undecidedGroups == [DirectoryUser.normalize(dn: late)], "readability is cached")
            dir.clearCaches()
            let fresh = try await dir.findUser(identity: "carol", groupsOfInterest: [late])
            #expect(fresh.undecidedGroups.isEmpty && !fresh.isMember(of: late))
        }
    }
}
