import Foundation
import Testing
import TestSupport
import WritebackCore
@testable import LDAPDirectory

/// Finding users against a real slapd: facts, nested groups, ambiguity, and hostile
/// identities that must find nothing and write nothing.
@Suite("OpenLDAP lookup")
struct OpenLDAPLookupTests {
    @Test("findUser reads the facts and nested membership of the groups of interest")
    func facts() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            let g = { (cn: String) in "cn=\(cn),\(slapd.groupsDN)" }
            let alice = try await dir.findUser(identity: "alice", groupsOfInterest: [g("sspr-users"), g("admins"), g("helpdesk")])
            #expect(alice.dn == slapd.userDN("alice"))
            #expect(alice.accountName == "alice")
            #expect(alice.displayName == "Alice Anders")
            #expect(alice.mail == ["alice@example.org"])
            #expect(alice.alternateMail == ["alice.private@example.net"])
            #expect(!alice.locked && !alice.disabled)
            #expect(alice.isMember(of: g("sspr-users")))
            #expect(alice.isMember(of: g("helpdesk")))
            #expect(!alice.isMember(of: g("admins")))
            // By mail too (identity_attributes uid, mail).
            let byMail = try await dir.findUser(identity: "alice@example.org", groupsOfInterest: [])
            #expect(byMail.dn == alice.dn)
            let grace = try await dir.findUser(identity: "grace", groupsOfInterest: [])
            #expect(grace.displayName == "Grâce Grün-Ørsted")
            await dir.shutdown()
        }
    }

    @Test("nested walk: cycles end, depth is bounded at 8 levels")
    func boundedWalk() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            let g = { (cn: String) in "cn=\(cn),\(slapd.groupsDN)" }
            let frank = try await dir.findUser(identity: "frank", groupsOfInterest: [g("loop-a"), g("loop-b"), g("admins")])
            #expect(frank.memberOf == Set([g("loop-a"), g("loop-b")].map(DirectoryUser.normalize(dn:))))
            let chains = (1...10).map { g("chain\($0)") }
            let grace = try await dir.findUser(identity: "grace", groupsOfInterest: chains)
            #expect(grace.isMember(of: g("chain1")))
            #expect(grace.isMember(of: g("chain8")))
            #expect(!grace.isMember(of: g("chain9")))
            await dir.shutdown()
        }
    }

    @Test("no match is notFound, two matches are ambiguous")
    func notFoundAndAmbiguous() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            let none = await directoryError { () async throws(DirectoryError) in try await dir.findUser(identity: "nobody", groupsOfInterest: []) }
            #expect(none == .notFound)
            #expect(none?.outcome.code == .notManaged)
            let two = await directoryError { () async throws(DirectoryError) in try await dir.findUser(identity: "shared@example.org", groupsOfInterest: []) }
            #expect(two == .ambiguous(count: 2))
            #expect(two?.outcome.code == .ambiguousUser)
            await dir.shutdown()
        }
    }

    static let hostile: [String] = [
        "*", "*)(uid=*", "alice)(uid=*", "*)(|(uid=*", "alice)(|(objectClass=*)", "\u{0}", "alice\u{0}",
        "alice\u{0})(uid=*", "(uid=alice)", "al*", "\\2a", "\\", "ålice", "алиса", "alice\u{301}", "",
    ]

    @Test("filter injection finds nothing and writes nothing", arguments: hostile)
    func injection(identity: String) async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            let e = await directoryError { () async throws(DirectoryError) in try await dir.findUser(identity: identity, groupsOfInterest: []) }
            #expect(e == .notFound)
            for uid in slapd.users {
                #expect(try slapd.attribute(dn: slapd.userDN(uid), name: "pwdChangedTime").isEmpty)
            }
            await dir.shutdown()
        }
    }
}
