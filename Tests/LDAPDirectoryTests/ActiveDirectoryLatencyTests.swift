import Foundation
import Testing
import TestSupport
@testable import LDAPDirectory
import WritebackCore

/// Prints what one lookup and one reset cost against the Samba DC (figures for the notes,
/// not a timed assertion: the machine is shared).
@Suite("Active Directory latency (Samba AD DC)")
struct ActiveDirectoryLatencyTests {
    @Test func resetAndLookupLatency() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let account = try ADFixture.user(dc, "latency")
        var user = try await svc.findUser(identity: account.sam, groupsOfInterest: [])
        try await svc.apply(ADFixture.reset(SambaDC.newPassword()), to: user)   // warm: connection, RootDSE

        var lookups: [Duration] = [], resets: [Duration] = []
        let clock = ContinuousClock()
        for _ in 0..<20 {
            let password = SambaDC.newPassword()
            resets.append(try await clock.measure { try await svc.apply(ADFixture.reset(password), to: user) })
            lookups.append(try await clock.measure {
                user = try await svc.findUser(identity: account.sam, groupsOfInterest: [dc.protectedGroupDN, dc.ssprGroupDN])
            })
        }
        func ms(_ d: Duration) -> String { String(format: "%.1f ms", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1e3) }
        resets.sort(); lookups.sort()
        print("samba-ad latency: reset p50 \(ms(resets[10])) max \(ms(resets[19])); lookup (+2 in-chain groups) p50 \(ms(lookups[10])) max \(ms(lookups[19]))")
        #expect(resets.count == 20)
    }
}
