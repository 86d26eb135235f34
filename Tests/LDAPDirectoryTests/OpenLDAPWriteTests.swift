import Foundation
import Testing
import TestSupport
import WritebackCore
@testable import LDAPDirectory

/// Resets, changes, unlocks and must-change against a real slapd with ppolicy, through the
/// write-only service account (so the server applies its whole policy).
@Suite("OpenLDAP writes")
struct OpenLDAPWriteTests {
    @Test("reset: the new password binds, the old one does not, no pwdReset is left")
    func reset() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            let user = try await dir.findUser(identity: "alice", groupsOfInterest: [])
            let old = slapd.initialPassword(of: "alice"), new = OpenLDAPFixture.newPassword()
            try await dir.apply(OpenLDAPFixture.reset(new), to: user)
            #expect(slapd.bind(user: "alice", password: new))
            #expect(!slapd.bind(user: "alice", password: old))
            #expect(try slapd.attribute(dn: user.dn, name: "pwdReset").isEmpty)
            #expect(try slapd.attribute(dn: user.dn, name: "userPassword").first?.hasPrefix("{SSHA}") == true)
            let after = try await dir.findUser(identity: "alice", groupsOfInterest: [])
            #expect(after.passwordStamp != nil)
            #expect(after.passwordHistory.count == 1)
            await dir.shutdown()
        }
    }

    @Test("change with the right old password, and with a wrong one")
    func change() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            let user = try await dir.findUser(identity: "bob", groupsOfInterest: [])
            let old = slapd.initialPassword(of: "bob"), new = OpenLDAPFixture.newPassword()
            let wrong = PasswordWrite(kind: .change, newPassword: Secret(new), oldPassword: Secret("not-" + old), unlock: false, mustChange: false)
            let e = await directoryError { () async throws(DirectoryError) in try await dir.apply(wrong, to: user) }
            guard case .wrongOldPassword = e else { Issue.record("expected wrongOldPassword, got \(String(describing: e))"); return }
            #expect(slapd.bind(user: "bob", password: old))

            let right = PasswordWrite(kind: .change, newPassword: Secret(new), oldPassword: Secret(old), unlock: false, mustChange: false)
            try await dir.apply(right, to: user)
            #expect(slapd.bind(user: "bob", password: new))
            #expect(!slapd.bind(user: "bob", password: old))
            await dir.shutdown()
        }
    }

    @Test("unlock an account locked by real failed binds; unlocking an unlocked account succeeds")
    func unlock() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            slapd.lockAccount(uid: "carol")
            #expect(try slapd.isLocked(uid: "carol"))
            #expect(!slapd.bind(user: "carol", password: slapd.initialPassword(of: "carol")))
            let user = try await dir.findUser(identity: "carol", groupsOfInterest: [])
            #expect(user.locked)
            let unlock = PasswordWrite(kind: .unlock, newPassword: nil, oldPassword: nil, unlock: true, mustChange: false)
            try await dir.apply(unlock, to: user)
            #expect(try !slapd.isLocked(uid: "carol"))
            #expect(slapd.bind(user: "carol", password: slapd.initialPassword(of: "carol")))
            try await dir.apply(unlock, to: user)   // not locked: 16 noSuchAttribute is fine
            await dir.shutdown()
        }
    }

    @Test("must-change sets pwdReset TRUE; a later reset without it leaves no pwdReset")
    func mustChange() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            let user = try await dir.findUser(identity: "dave", groupsOfInterest: [])
            try await dir.apply(OpenLDAPFixture.reset(OpenLDAPFixture.newPassword(), mustChange: true), to: user)
            #expect(try slapd.attribute(dn: user.dn, name: "pwdReset") == ["TRUE"])
            try await dir.apply(OpenLDAPFixture.reset(OpenLDAPFixture.newPassword(), mustChange: false), to: user)
            #expect(try slapd.attribute(dn: user.dn, name: "pwdReset").isEmpty)
            await dir.shutdown()
        }
    }

    @Test("reset with unlock = false keeps the lock; with unlock = true it is gone")
    func resetWithoutUnlock() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            slapd.lockAccount(uid: "erin")
            let user = try await dir.findUser(identity: "erin", groupsOfInterest: [])
            let pw = OpenLDAPFixture.newPassword()
            try await dir.apply(OpenLDAPFixture.reset(pw, unlock: false), to: user)
            #expect(try slapd.isLocked(uid: "erin"))
            #expect(!slapd.bind(user: "erin", password: pw))
            let pw2 = OpenLDAPFixture.newPassword()
            try await dir.apply(OpenLDAPFixture.reset(pw2, unlock: true), to: user)
            #expect(try !slapd.isLocked(uid: "erin"))
            #expect(slapd.bind(user: "erin", password: pw2))
            await dir.shutdown()
        }
    }

    @Test("ppolicy refusals name the rule: history, too short")
    func policyRefusals() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            let user = try await dir.findUser(identity: "frank", groupsOfInterest: [])
            let p1 = OpenLDAPFixture.newPassword(), p2 = OpenLDAPFixture.newPassword()
            try await dir.apply(OpenLDAPFixture.reset(p1), to: user)
            try await dir.apply(OpenLDAPFixture.reset(p2), to: user)
            let history = await directoryError { () async throws(DirectoryError) in try await dir.apply(OpenLDAPFixture.reset(p1), to: user) }
            guard case .passwordRejected(.history, _) = history else { Issue.record("expected history, got \(String(describing: history))"); return }
            #expect(history?.outcome == .passwordPolicy(.history))
            let short = await directoryError { () async throws(DirectoryError) in try await dir.apply(OpenLDAPFixture.reset("Sh0rt!"), to: user) }
            guard case .passwordRejected(.tooShort, _) = short else { Issue.record("expected tooShort, got \(String(describing: short))"); return }
            #expect(slapd.bind(user: "frank", password: p2))
            await dir.shutdown()
        }
    }

    @Test("a read-only service account gets directory_permission")
    func readOnlyAccount() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd, bindDN: slapd.readonlyDN, passwordFile: slapd.readonlyPasswordFile)
            let user = try await dir.findUser(identity: "grace", groupsOfInterest: [])
            let e = await directoryError { () async throws(DirectoryError) in try await dir.apply(OpenLDAPFixture.reset(OpenLDAPFixture.newPassword()), to: user) }
            guard case .permission = e else { Issue.record("expected permission, got \(String(describing: e))"); return }
            #expect(e?.outcome.code == .directoryPermission)
            #expect(slapd.bind(user: "grace", password: slapd.initialPassword(of: "grace")))
            await dir.shutdown()
        }
    }

    @Test("a wrong service password is a bind failure, not an outage")
    func wrongServicePassword() async throws {
        try await withSlapd { slapd in
            let file = slapd.dir + "/secrets/wrong-service"
            _ = FileManager.default.createFile(atPath: file, contents: Data("nope-\(UUID())\n".utf8), attributes: [.posixPermissions: 0o600])
            let dir = try OpenLDAPFixture.service(slapd, passwordFile: file)
            let e = await directoryError { () async throws(DirectoryError) in try await dir.findUser(identity: "alice", groupsOfInterest: []) }
            guard case .bindFailed = e else { Issue.record("expected bindFailed, got \(String(describing: e))"); return }
            await dir.shutdown()
        }
    }
}
