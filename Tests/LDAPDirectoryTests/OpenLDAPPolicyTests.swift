import Foundation
import Testing
import TestSupport
import WritebackCore
@testable import LDAPDirectory

/// The effective password policy read from a real slapd: the default policy (found through
/// `olcPPolicyDefault`, which the test server lets the service account read), a per-user
/// `pwdPolicySubentry`, and the cache that SIGHUP (`clearCaches`) empties.
@Suite("OpenLDAP effective password policy")
struct OpenLDAPPolicyTests {
    @Test("default policy, per-user policy, cached until clearCaches")
    func policies() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd, baseDN: slapd.peopleDN)
            defer { Task { await dir.shutdown() } }
            let carol = try await dir.findUser(identity: "carol", groupsOfInterest: [])
            let byDefault = try #require(try await dir.effectivePolicy(for: carol))
            #expect(byDefault == DirectoryPasswordPolicy(source: .ppolicy(slapd.defaultPolicyDN), minLength: 8, complexity: false, historyLength: 5,
                                                         minAge: 0, minAgeOnReset: true, historyOnReset: true))

            let strict = "cn=strict,ou=policies,\(slapd.baseDN)"
            try slapd.modify(ldif: "dn: \(strict)\nobjectClass: namedPolicy\nobjectClass: pwdPolicy\ncn: strict\npwdAttribute: userPassword\n"
                             + "pwdMinLength: 12\npwdInHistory: 3\npwdMinAge: 3600\npwdCheckQuality: 1\n", add: true)
            try slapd.modify(ldif: "dn: \(slapd.userDN("dave"))\nchangetype: modify\nadd: pwdPolicySubentry\npwdPolicySubentry: \(strict)\n-\n")
            let dave = try await dir.findUser(identity: "dave", groupsOfInterest: [])
            #expect(dave.passwordPolicyDN == strict)
            let own = try #require(try await dir.effectivePolicy(for: dave))
            #expect(own.source == .ppolicy(strict) && own.minLength == 12 && own.historyLength == 3 && own.minAge == 3600)

            // A change to the default policy is seen after clearCaches, not before.
            try slapd.modify(ldif: "dn: \(slapd.defaultPolicyDN)\nchangetype: modify\nreplace: pwdMinLength\npwdMinLength: 10\n-\n")
            #expect(try await dir.effectivePolicy(for: carol)?.minLength == 8, "cached")
            dir.clearCaches()
            #expect(try await dir.effectivePolicy(for: carol)?.minLength == 10)
        }
    }
}
