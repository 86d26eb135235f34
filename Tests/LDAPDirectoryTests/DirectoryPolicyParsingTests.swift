import Foundation
import Testing
import WritebackCore
@testable import LDAPDirectory

/// Policy entries as the directory returns them, hostile values included: junk is "no rule",
/// never a crash or a negative length; an entry without the attributes (unreadable) is nil.
@Suite struct DirectoryPolicyParsingTests {
    static func entry(_ attrs: [String: String]) -> LDAPEntry {
        LDAPEntry(dn: "cn=p", attributes: attrs.mapValues { [Data($0.utf8)] })
    }

    @Test("an AD PSO")
    func pso() throws {
        let p = try #require(DirectoryPolicyParsing.pso(dn: "CN=P", Self.entry([
            "msDS-MinimumPasswordLength": "14", "msDS-PasswordComplexityEnabled": "TRUE",
            "msDS-PasswordHistoryLength": "5", "msDS-MinimumPasswordAge": "-864000000000"]), historyOnReset: false))
        #expect(p == DirectoryPasswordPolicy(source: .pso("CN=P"), minLength: 14, complexity: true, historyLength: 5, minAge: 86_400,
                                             minAgeOnReset: false, historyOnReset: false))
    }

    @Test("the AD domain head")
    func domain() throws {
        let p = try #require(DirectoryPolicyParsing.domain(Self.entry(["minPwdLength": "12", "pwdProperties": "17", "pwdHistoryLength": "24", "minPwdAge": "0"]),
                                                           historyOnReset: true))
        #expect(p.minLength == 12 && p.complexity && p.historyLength == 24 && p.minAge == 0 && p.historyOnReset && p.source == .domain)
        #expect(DirectoryPolicyParsing.domain(Self.entry(["pwdProperties": "16"]), historyOnReset: false)?.complexity == false)
    }

    @Test("an OpenLDAP ppolicy entry; pwdCheckQuality 0 switches the length check off")
    func ppolicy() throws {
        let p = try #require(DirectoryPolicyParsing.ppolicy(dn: "cn=d", Self.entry(["pwdMinLength": "8", "pwdInHistory": "5", "pwdMinAge": "3600", "pwdCheckQuality": "2"])))
        #expect(p == DirectoryPasswordPolicy(source: .ppolicy("cn=d"), minLength: 8, complexity: false, historyLength: 5, minAge: 3600,
                                             minAgeOnReset: true, historyOnReset: true))
        #expect(DirectoryPolicyParsing.ppolicy(dn: "cn=d", Self.entry(["pwdMinLength": "8", "pwdCheckQuality": "0"]))?.minLength == 0)
    }

    @Test("unreadable entries (no attributes) are nil")
    func unreadable() {
        #expect(DirectoryPolicyParsing.pso(dn: "CN=P", Self.entry([:]), historyOnReset: false) == nil)
        #expect(DirectoryPolicyParsing.domain(Self.entry(["cn": "x"]), historyOnReset: false) == nil)
        #expect(DirectoryPolicyParsing.ppolicy(dn: "cn=d", Self.entry([:])) == nil)
    }

    @Test("hostile numbers are no rule", arguments: ["", "-5", "abc", "99999999999999999999999", "1e3", " 7 ", "0x10", "\u{0}"])
    func hostileCounts(_ raw: String) {
        let n = DirectoryPolicyParsing.count(raw)
        #expect(n >= 0 && n <= 1024)
        if raw == " 7 " { #expect(n == 7) }
    }

    @Test("AD intervals", arguments: [
        ("-864000000000", 86_400.0), ("0", 0), ("864000000000", 0), ("-9223372036854775808", 0), ("junk", 0),
        ("-9223372036854775807", 10 * 365 * 86_400),
    ] as [(String, Double)])
    func intervals(raw: String, seconds: Double) {
        #expect(DirectoryPolicyParsing.interval(raw) == seconds)
    }
}
