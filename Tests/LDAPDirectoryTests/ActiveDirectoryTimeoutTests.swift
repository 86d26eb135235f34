import Foundation
import Testing
import TestSupport
@testable import LDAPDirectory
import WritebackCore

/// Unknown outcomes and fail-over against the real DC: a reset whose answer never came in
/// time is decided by reading `pwdLastSet` back, and a dead first URI falls over to the DC.
@Suite("Active Directory timeouts and fail-over (Samba AD DC)")
struct ActiveDirectoryTimeoutTests {
    @Test func timedOutResetIsDecidedByReadBack() async throws {
        let dc = try await ADFixture.dc()
        var config = ADFixture.config(dc)
        config.timeoutSeconds = 1
        config.connections = 1
        let svc = try LDAPDirectoryService(config: config, logger: .init(label: "test.ad.timeout"))
        defer { Task { await svc.shutdown() } }
        let account = try ADFixture.user(dc, "timeout")
        // Warm up: connection bound and the RootDSE's controls known, so the stopped DC meets the modify.
        try await svc.apply(ADFixture.reset(SambaDC.newPassword()), to: svc.findUser(identity: account.sam, groupsOfInterest: []))
        let user = try await svc.findUser(identity: account.sam, groupsOfInterest: [])

        let new = SambaDC.newPassword()
        dc.suspend(for: 2)   // longer than the 1 s timeout
        let error = await ADFixture.error { try await svc.apply(ADFixture.reset(new), to: user) }
        #expect(error?.kind == "timedOut", "\(String(describing: error))")
        #expect(error?.isTransient == true)

        // The DC answers again and may apply the write it received while stopped: read back.
        var verdict = ReadbackVerdict.notApplied
        for _ in 0..<50 {
            verdict = try await svc.readBack(user: user, intentStamp: user.passwordStamp, newPassword: Secret(new))
            if verdict == .applied { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(verdict == .applied)
        #expect(dc.bind(dn: user.dn, password: new).succeeded, "the timed-out reset was applied")
    }

    @Test func deadFirstURIFallsOverToTheDC() async throws {
        let dc = try await ADFixture.dc()
        var config = ADFixture.config(dc)
        // 127.0.0.2 is loopback too, but the DC listens on 127.0.0.1 only: connection refused.
        config.uris = ["ldaps://127.0.0.2:636", dc.uri]
        let svc = try LDAPDirectoryService(config: config, logger: .init(label: "test.ad.failover"))
        defer { Task { await svc.shutdown() } }
        let user = try await svc.findUser(identity: "paul.plain", groupsOfInterest: [])
        #expect(user.accountName == "paul.plain")
        let health = await svc.health()
        #expect(health.map(\.uri) == config.uris)
        #expect(health.map(\.up) == [false, true])
    }
}
