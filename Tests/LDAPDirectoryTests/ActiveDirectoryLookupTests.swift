import Foundation
import Testing
import TestSupport
@testable import LDAPDirectory
import WritebackCore

/// Finding users in a real Samba AD DC and reading the facts the policy decides on.
@Suite("Active Directory lookup (Samba AD DC)")
struct ActiveDirectoryLookupTests {
    @Test func readsMailDisplayNameAndStamp() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let u = try await svc.findUser(identity: "paul.plain", groupsOfInterest: [])
        #expect(u.dn == dc.userDN(cn: "Paul Plain"))
        #expect(u.accountName == "paul.plain")
        #expect(u.displayName == "Paul Plain")
        #expect(u.mail == ["paul.plain@example.test"])
        #expect(u.alternateMail == ["paul.plain@home.example"])
        #expect(!u.disabled && !u.locked && !u.adminCount)
        let stamp = try #require(u.passwordStamp)
        #expect(try dc.attribute(dn: u.dn, name: "pwdLastSet") == [stamp])
        let changed = try #require(u.passwordChangedAt)
        #expect(abs(changed.timeIntervalSinceNow) < 10 * 365 * 86400)
    }

    @Test("identity attributes: sAMAccountName, userPrincipalName, mail",
          arguments: ["nora.nested", "nora.nested@example.test", "NORA.NESTED"])
    func identities(identity: String) async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let u = try await svc.findUser(identity: identity, groupsOfInterest: [])
        #expect(u.accountName == "nora.nested")
    }

    @Test func protectionFacts() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let groups = [dc.protectedGroupDN, dc.nestedGroupDN, dc.ssprGroupDN, "CN=No Such Group,\(dc.groupsDN)"]

        let alice = try await svc.findUser(identity: "alice.admin", groupsOfInterest: groups)
        #expect(alice.adminCount && !alice.disabled && alice.memberOf.isEmpty)

        let dave = try await svc.findUser(identity: "dave.disabled", groupsOfInterest: groups)
        #expect(dave.disabled && !dave.adminCount)
        #expect(dave.alternateMail.isEmpty)

        let nora = try await svc.findUser(identity: "nora.nested", groupsOfInterest: groups)
        #expect(!nora.adminCount && !nora.disabled)
        #expect(nora.isMember(of: dc.protectedGroupDN), "nested: Tier0 Admins ∋ Helpdesk Leads ∋ nora")
        #expect(nora.isMember(of: dc.nestedGroupDN))
        #expect(nora.isMember(of: dc.ssprGroupDN), "nested through Helpdesk Leads")
        #expect(nora.memberOf.count == 3)

        let paul = try await svc.findUser(identity: "paul.plain", groupsOfInterest: groups)
        #expect(paul.memberOf == [DirectoryUser.normalize(dn: dc.ssprGroupDN)])
    }

    @Test func ambiguousAndUnknown() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        #expect(await ADFixture.error { _ = try await svc.findUser(identity: "twins@example.test", groupsOfInterest: []) } == .ambiguous(count: 2))
        #expect(await ADFixture.error { _ = try await svc.findUser(identity: "nobody.here", groupsOfInterest: []) } == .notFound)
        #expect(await ADFixture.error { _ = try await svc.findUser(identity: "", groupsOfInterest: []) } == .notFound)
    }

    @Test("filter injection finds nothing", arguments: [
        "*", "*)(sAMAccountName=*", "paul.plain)(|(sAMAccountName=*", "paul*", "*plain",
        "paul.plain\u{0}", "paul.plain\u{0}x", "\u{0}", "paul.plain\n", "(", ")", "\\", "paul.plain)(objectClass=*",
        "пол", "paul.pla\\2a", "paul.plain\\00",
    ])
    func injection(identity: String) async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let before = try dc.attribute(dn: dc.userDN(cn: "Paul Plain"), name: "pwdLastSet")
        #expect(await ADFixture.error { _ = try await svc.findUser(identity: identity, groupsOfInterest: []) } == .notFound)
        #expect(try dc.attribute(dn: dc.userDN(cn: "Paul Plain"), name: "pwdLastSet") == before)
    }

    @Test func baseDNLimitsTheSearch() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc, base: dc.groupsDN)
        defer { Task { await svc.shutdown() } }
        #expect(await ADFixture.error { _ = try await svc.findUser(identity: "paul.plain", groupsOfInterest: []) } == .notFound)
    }

    @Test func lockedFlagComesFromComputedAttribute() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let user = try ADFixture.user(dc, "lockfact")
        #expect(try await !svc.findUser(identity: user.sam, groupsOfInterest: []).locked)
        dc.lockAccount(dn: user.dn)
        #expect(dc.bind(dn: user.dn, password: user.password).accountLocked)
        #expect(try await svc.findUser(identity: user.sam, groupsOfInterest: []).locked)
    }

    @Test func wrongCAIsUnavailable() async throws {
        let dc = try await ADFixture.dc()
        var config = ADFixture.config(dc)
        config.caFile = dc.wrongCAFile
        let svc = try LDAPDirectoryService(config: config, logger: .init(label: "test.ad"))
        defer { Task { await svc.shutdown() } }
        #expect(await ADFixture.error { _ = try await svc.findUser(identity: "paul.plain", groupsOfInterest: []) }?.kind == "unavailable")
    }

    @Test func wrongServicePasswordIsBindFailed() async throws {
        let dc = try await ADFixture.dc()
        // A throwaway account as the "service": a wrong password must not lock the real one.
        let user = try ADFixture.user(dc, "badsvc")
        let file = dc.dir + "/secrets/wrong-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: file, contents: Data("Not-\(user.password)".utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(atPath: file) }
        let svc = try ADFixture.service(dc, bindDN: user.dn, passwordFile: file)
        defer { Task { await svc.shutdown() } }
        #expect(await ADFixture.error { _ = try await svc.findUser(identity: "paul.plain", groupsOfInterest: []) }?.kind == "bindFailed")
    }
}
