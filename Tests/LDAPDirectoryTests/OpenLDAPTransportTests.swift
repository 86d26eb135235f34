import Foundation
import Testing
import TestSupport
import WritebackCore
@testable import LDAPDirectory

/// Connections against a real slapd: fail-over, TLS verification, ldapi + EXTERNAL,
/// refusal of plain LDAP, and timeouts decided by reading back.
@Suite("OpenLDAP transport")
struct OpenLDAPTransportTests {
    @Test("first URI dead (closed port) → the second is used, health says which")
    func failOver() async throws {
        try await withSlapd { slapd in
            let dead = "ldap://127.0.0.1:\(try freeLoopbackPort())"
            let dir = try OpenLDAPFixture.service(slapd, uris: [dead, slapd.uri])
            let user = try await dir.findUser(identity: "alice", groupsOfInterest: [])
            let pw = OpenLDAPFixture.newPassword()
            try await dir.apply(OpenLDAPFixture.reset(pw), to: user)
            #expect(slapd.bind(user: "alice", password: pw))
            let health = await dir.health()
            #expect(health.map(\.uri) == [dead, slapd.uri])
            #expect(health.map(\.up) == [false, true])
            #expect(health[0].lastError != nil)
            await dir.shutdown()
        }
    }

    @Test("no URI answers → unavailable")
    func allDead() async throws {
        var c = DirectoryConfig(flavor: .openldap, uris: ["ldap://127.0.0.1:\(try freeLoopbackPort())"], baseDN: "dc=example,dc=org")
        c.startTLS = true
        c.bindMethod = .external
        c.timeoutSeconds = 2
        let dir = try LDAPDirectoryService(config: c, logger: .init(label: "t"))
        let e = await directoryError { () async throws(DirectoryError) in try await dir.findUser(identity: "alice", groupsOfInterest: []) }
        guard case .unavailable = e else { Issue.record("expected unavailable, got \(String(describing: e))"); return }
        #expect(e?.outcome.code == .directoryUnavailable)
        await dir.shutdown()
    }

    @Test("StartTLS verifies the server: the test CA works, a wrong CA is refused")
    func startTLSVerification() async throws {
        try await withSlapd { slapd in
            let good = try OpenLDAPFixture.service(slapd)
            _ = try await good.findUser(identity: "alice", groupsOfInterest: [])
            await good.shutdown()
            let bad = try OpenLDAPFixture.service(slapd, caFile: slapd.wrongCAFile)
            let e = await directoryError { () async throws(DirectoryError) in try await bad.findUser(identity: "alice", groupsOfInterest: []) }
            guard case .unavailable = e else { Issue.record("expected unavailable, got \(String(describing: e))"); return }
            await bad.shutdown()
        }
    }

    @Test("ldapi:// with SASL EXTERNAL acts as the mapped service account")
    func ldapiExternal() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd, uris: [slapd.ldapiURI], startTLS: false, bindMethod: .external)
            let user = try await dir.findUser(identity: "bob", groupsOfInterest: [])
            let pw = OpenLDAPFixture.newPassword()
            try await dir.apply(OpenLDAPFixture.reset(pw), to: user)
            #expect(slapd.bind(user: "bob", password: pw))
            await dir.shutdown()
        }
    }

    @Test("plain ldap:// is refused unless loopback and allowed")
    func plainRefused() throws {
        var c = DirectoryConfig(flavor: .openldap, uris: ["ldap://127.0.0.1:389"], baseDN: "dc=example,dc=org")
        c.bindMethod = .external
        #expect(throws: LDAPDirectoryConfigError.plainLDAPRefused("ldap://127.0.0.1:389")) { try LDAPDirectoryService.settings(for: c) }
        c.allowPlainLoopback = true
        _ = try LDAPDirectoryService.settings(for: c)
        c.uris = ["ldap://ldap.example.org"]
        #expect(throws: LDAPDirectoryConfigError.plainLDAPRefused("ldap://ldap.example.org")) { try LDAPDirectoryService.settings(for: c) }
        c.uris = ["ldaps://ldap.example.org", "ldapi:///"]
        c.allowPlainLoopback = false
        _ = try LDAPDirectoryService.settings(for: c)
        c.uris = ["http://x"]
        #expect(throws: LDAPDirectoryConfigError.unsupportedURI("http://x")) { try LDAPDirectoryService.settings(for: c) }
    }

    @Test("a write that times out is decided by reading back")
    func timeoutThenReadBack() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd, timeout: 1, connections: 1)
            let user = try await dir.findUser(identity: "carol", groupsOfInterest: [])   // connection is up
            let pw = OpenLDAPFixture.newPassword()
            slapd.suspend()
            let e = await directoryError { () async throws(DirectoryError) in try await dir.apply(OpenLDAPFixture.reset(pw), to: user) }
            slapd.resume()
            guard case .timedOut = e else { Issue.record("expected timedOut, got \(String(describing: e))"); return }
            try await Task.sleep(for: .milliseconds(300))
            let verdict = try await dir.readBack(user: user, intentStamp: user.passwordStamp, newPassword: Secret(pw))
            // Whatever the server did with the abandoned request, the verdict matches reality.
            #expect((verdict == .applied) == slapd.bind(user: "carol", password: pw))
            // Exactness: a password that was never set is not applied.
            let other = try await dir.readBack(user: user, intentStamp: user.passwordStamp, newPassword: Secret(OpenLDAPFixture.newPassword()))
            #expect(other == .notApplied)
            // And a completed reset is applied.
            let pw2 = OpenLDAPFixture.newPassword()
            try await dir.apply(OpenLDAPFixture.reset(pw2), to: user)
            #expect(try await dir.readBack(user: user, intentStamp: user.passwordStamp, newPassword: Secret(pw2)) == .applied)
            await dir.shutdown()
        }
    }
}
