import Foundation

/// Fine-grained password policies on the test DC (issue 12): a group, a Password Settings
/// Object applied to it, and the right the service account needs to read PSOs (by default
/// only Domain Admins may). Each test makes its own group and PSO, so tests sharing the DC
/// do not see each other's policies.
extension SambaDC {
    /// `CN=<cn>,OU=Groups` with `members`. Returns its DN.
    @discardableResult
    public func createGroup(cn: String, members: [String]) throws -> String {
        let dn = "CN=\(cn),\(groupsDN)"
        var ldif = "dn: \(dn)\nchangetype: add\nobjectClass: group\nsAMAccountName: \(cn)\n"
        for m in members { ldif += "member: \(m)\n" }
        try modify(ldif: ldif)
        return dn
    }

    /// A PSO named `cn` applied to `appliesTo` (group or user DNs). `minAgeDays` 0: none.
    /// Returns its DN.
    @discardableResult
    public func createPSO(cn: String, appliesTo: [String], precedence: Int = 1, minLength: Int, complexity: Bool,
                          history: Int, minAgeDays: Int) throws -> String {
        let dn = "CN=\(cn),CN=Password Settings Container,CN=System,\(baseDN)"
        let day: Int64 = 864_000_000_000
        var ldif = """
            dn: \(dn)
            changetype: add
            objectClass: msDS-PasswordSettings
            msDS-PasswordSettingsPrecedence: \(precedence)
            msDS-PasswordReversibleEncryptionEnabled: FALSE
            msDS-PasswordHistoryLength: \(history)
            msDS-PasswordComplexityEnabled: \(complexity ? "TRUE" : "FALSE")
            msDS-MinimumPasswordLength: \(minLength)
            msDS-MinimumPasswordAge: \(-Int64(minAgeDays) * day)
            msDS-MaximumPasswordAge: -\(Int64(3650) * day)
            msDS-LockoutThreshold: 0
            msDS-LockoutObservationWindow: -18000000000
            msDS-LockoutDuration: -18000000000

            """
        for a in appliesTo { ldif += "msDS-PSOAppliesTo: \(a)\n" }
        try modify(ldif: ldif)
        return dn
    }

    /// Lets `account` (a sAMAccountName) read every PSO: an inheritable read ACE on the
    /// Password Settings Container, set with samba-tool on the DC's own database (the tests
    /// run as root beside the DC; no password on a command line). Idempotent enough: a second
    /// grant adds the same ACE again.
    public func grantPasswordSettingsRead(to account: String) throws {
        let sam = dir + "/private/sam.ldb"
        let show = try ToolRunner.run("/usr/bin/samba-tool", ["user", "show", account, "-H", sam, "-s", smbConf, "--attributes=objectSid"])
        guard show.status == 0, let line = show.stdout.split(separator: "\n").first(where: { $0.hasPrefix("objectSid:") }) else {
            throw SlapdHarnessError.commandFailed("samba-tool user show \(account): \(show.stderr)")
        }
        let sid = line.dropFirst("objectSid:".count).trimmingCharacters(in: .whitespaces)
        let r = try ToolRunner.run("/usr/bin/samba-tool", ["dsacl", "set", "-H", sam, "-s", smbConf,
                                                           "--objectdn=CN=Password Settings Container,CN=System,\(baseDN)",
                                                           "--sddl=(A;CI;RPLCLORC;;;\(sid))"])
        guard r.status == 0 else { throw SlapdHarnessError.commandFailed("samba-tool dsacl set: \(r.stderr)") }
    }
}
