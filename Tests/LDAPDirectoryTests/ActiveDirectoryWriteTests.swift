import Foundation
import Testing
import TestSupport
@testable import LDAPDirectory
import WritebackCore

/// Resets, changes, unlocks and must-change against a real Samba AD DC, checked by binding
/// as the user afterwards, the way a user would find out.
@Suite("Active Directory writes (Samba AD DC)")
struct ActiveDirectoryWriteTests {
    @Test func resetNewPasswordBindsOldDoesNot() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let user = try ADFixture.user(dc, "reset")
        let found = try await svc.findUser(identity: user.sam, groupsOfInterest: [])
        let new = SambaDC.newPassword()
        try await svc.apply(ADFixture.reset(new), to: found)
        #expect(dc.bind(dn: user.dn, password: new).succeeded)
        #expect(dc.bind(dn: user.dn, password: user.password).rc == 49)
        let after = try await svc.findUser(identity: user.sam, groupsOfInterest: [])
        #expect(after.passwordStamp != found.passwordStamp)
        #expect(!after.locked)
    }

    @Test func changeAsTheUser() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let user = try ADFixture.user(dc, "change")
        let found = try await svc.findUser(identity: user.sam, groupsOfInterest: [])
        let new = SambaDC.newPassword()
        #expect(await ADFixture.error { try await svc.apply(ADFixture.change(old: "Wrong-" + user.password, new: new), to: found) }
                == .wrongOldPassword("bind as the user refused"))
        #expect(dc.bind(dn: user.dn, password: user.password).succeeded, "a refused change leaves the password")
        try await svc.apply(ADFixture.change(old: user.password, new: new), to: found)
        #expect(dc.bind(dn: user.dn, password: new).succeeded)
        #expect(dc.bind(dn: user.dn, password: user.password).rc == 49)
        // Changes obey the domain's history: going back is refused, with AD's generic code.
        #expect(await ADFixture.error { try await svc.apply(ADFixture.change(old: new, new: user.password), to: found) }?.kind
                == "passwordRejected(directory_rule)")
    }

    @Test func changeByAUserWhoMustChange() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let user = try ADFixture.user(dc, "mustchg")
        let found = try await svc.findUser(identity: user.sam, groupsOfInterest: [])
        try await svc.apply(ADFixture.reset(user.password + "x", mustChange: true), to: found)
        #expect(dc.bind(dn: user.dn, password: user.password + "x").diagnostic.contains("data 773"))
        let new = SambaDC.newPassword()
        #expect(await ADFixture.error { try await svc.apply(ADFixture.change(old: user.password, new: new), to: found) }?.kind
                == "wrongOldPassword")
        try await svc.apply(ADFixture.change(old: user.password + "x", new: new), to: found)
        #expect(dc.bind(dn: user.dn, password: new).succeeded)
    }

    @Test func unlockAnAccountLockedByFailedBinds() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let user = try ADFixture.user(dc, "unlock")
        dc.lockAccount(dn: user.dn)
        let locked = dc.bind(dn: user.dn, password: user.password)
        #expect(locked.rc == 49 && locked.accountLocked, "\(locked.diagnostic)")
        let found = try await svc.findUser(identity: user.sam, groupsOfInterest: [])
        #expect(found.locked)
        try await svc.apply(ADFixture.unlock, to: found)
        #expect(dc.bind(dn: user.dn, password: user.password).succeeded)
        #expect(try await !svc.findUser(identity: user.sam, groupsOfInterest: []).locked)
        #expect(try dc.attribute(dn: user.dn, name: "pwdLastSet") == [found.passwordStamp ?? ""], "unlock leaves the password")
        // Unlocking an account that is not locked succeeds.
        try await svc.apply(ADFixture.unlock, to: found)
    }

    @Test("reset with and without unlock", arguments: [true, false])
    func resetOfALockedAccount(unlock: Bool) async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let user = try ADFixture.user(dc, unlock ? "rstunlk" : "rstlock")
        dc.lockAccount(dn: user.dn)
        let found = try await svc.findUser(identity: user.sam, groupsOfInterest: [])
        #expect(found.locked)
        let new = SambaDC.newPassword()
        try await svc.apply(ADFixture.reset(new, unlock: unlock), to: found)
        let bind = dc.bind(dn: user.dn, password: new)
        if unlock {
            #expect(bind.succeeded)
        } else {
            #expect(bind.accountLocked, "the lock stays: \(bind.diagnostic)")
            #expect(try await svc.findUser(identity: user.sam, groupsOfInterest: []).locked)
        }
    }

    @Test("must change at next logon: pwdLastSet 0, else a current time", arguments: [true, false])
    func mustChange(mustChange: Bool) async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let user = try ADFixture.user(dc, mustChange ? "mc-yes" : "mc-no")
        // Start from a must-change account, so "not asked" has something to clear.
        try dc.modify(ldif: "dn: \(user.dn)\nchangetype: modify\nreplace: pwdLastSet\npwdLastSet: 0\n-\n")
        let found = try await svc.findUser(identity: user.sam, groupsOfInterest: [])
        let new = SambaDC.newPassword()
        try await svc.apply(ADFixture.reset(new, mustChange: mustChange), to: found)
        let stamp = try #require(try dc.attribute(dn: user.dn, name: "pwdLastSet").first)
        let bind = dc.bind(dn: user.dn, password: new)
        if mustChange {
            #expect(stamp == "0")
            #expect(bind.rc == 49 && bind.diagnostic.contains("data 773"))
        } else {
            let when = try #require(ActiveDirectoryEncoding.date(fromFiletime: stamp))
            #expect(abs(when.timeIntervalSinceNow) < 300, "the DC's now (clocks of one machine)")
            #expect(bind.succeeded)
        }
    }

    @Test("passwords the domain refuses → password_policy/directory_rule", arguments: [
        "Sh0rt!x",                  // shorter than 12
        "alllowercaseletters",      // complexity: one class
        "ALLUPPERCASE1234",         // two classes
    ])
    func domainRefusal(password: String) async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let user = try ADFixture.user(dc, "refuse")
        let found = try await svc.findUser(identity: user.sam, groupsOfInterest: [])
        let error = await ADFixture.error { try await svc.apply(ADFixture.reset(password), to: found) }
        #expect(error?.kind == "passwordRejected(directory_rule)")
        #expect(error?.outcome == .passwordPolicy(.directoryRule))
        #expect(dc.bind(dn: user.dn, password: user.password).succeeded, "nothing was written")
    }

    @Test func readOnlyServiceAccountIsDirectoryPermission() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc, bindDN: dc.readonlyDN, passwordFile: dc.readonlyPasswordFile)
        defer { Task { await svc.shutdown() } }
        let user = try ADFixture.user(dc, "ro")
        let found = try await svc.findUser(identity: user.sam, groupsOfInterest: [])
        for write in [ADFixture.reset(SambaDC.newPassword()), ADFixture.unlock] {
            let error = await ADFixture.error { try await svc.apply(write, to: found) }
            #expect(error?.kind == "permission")
            #expect(error?.outcome.code == .directoryPermission)
        }
        #expect(dc.bind(dn: user.dn, password: user.password).succeeded)
    }

    @Test func rightsAreDelegatedOnlyOnTheUsersOU() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc, base: dc.baseDN)
        defer { Task { await svc.shutdown() } }
        let outside = try await svc.findUser(identity: "svc-readonly", groupsOfInterest: [])
        #expect(await ADFixture.error { try await svc.apply(ADFixture.reset(SambaDC.newPassword()), to: outside) }?.kind == "permission")
    }

    @Test func readBackDecidesByPwdLastSet() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let user = try ADFixture.user(dc, "readback")
        let before = try await svc.findUser(identity: user.sam, groupsOfInterest: [])
        let new = Secret(SambaDC.newPassword())
        #expect(try await svc.readBack(user: before, intentStamp: before.passwordStamp, newPassword: new) == .notApplied)
        try await svc.apply(PasswordWrite(kind: .reset, newPassword: new, oldPassword: nil, unlock: true, mustChange: false), to: before)
        #expect(try await svc.readBack(user: before, intentStamp: before.passwordStamp, newPassword: new) == .applied)
        #expect(try await svc.readBack(user: before, intentStamp: nil, newPassword: new) == .notApplied)
        // Unlock: applied when the account is no longer locked.
        dc.lockAccount(dn: user.dn)
        #expect(try await svc.readBack(user: before, intentStamp: before.passwordStamp, newPassword: nil) == .notApplied)
        try await svc.apply(ADFixture.unlock, to: before)
        #expect(try await svc.readBack(user: before, intentStamp: before.passwordStamp, newPassword: nil) == .applied)
    }

    @Test func policyHintsAreNotSentWhenTheDCDoesNotListThem() async throws {
        let dc = try await ADFixture.dc()
        let config = ADFixture.config(dc)
        let settings = try LDAPDirectoryService.settings(for: config)
        let pool = LDAPPool(settings: settings, connections: 1)
        let flavor = ActiveDirectoryFlavor(config: config, pool: pool, logger: .init(label: "test.ad"))
        #expect(try await flavor.policyHintsControls().isEmpty, "Samba 4.17 does not list 1.2.840.113556.1.4.2239")
        await pool.shutdown()
    }
}
