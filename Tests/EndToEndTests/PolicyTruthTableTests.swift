import Foundation
import Logging
import Synchronization
import Testing
import TestSupport
import LDAPDirectory
import WritebackCore
@testable import WritebackDaemon

/// Issue 12's truth table: cause × directory → outcome, through the daemon's real pipeline
/// against a real Samba AD DC (the domain policy, stricter than `[policy]`, and a PSO on a
/// group) and a real slapd (the default ppolicy, and a per-user `pwdPolicySubentry`). Every
/// refusal names its rule; none is `directory_rule` where the policy explains it. The table is
/// printed for the log (and the note).
@Suite("Effective password policy: the truth table", .serialized)
struct PolicyTruthTableTests {
    /// `[policy]` weaker than every directory here: 8 characters (6 on slapd), no complexity,
    /// no history of its own, no minimum age.
    static func weakPolicy(minLength: Int) -> PolicyConfig {
        var p = PolicyConfig()
        p.minLength = minLength; p.complexity = false; p.historyCount = 0; p.minAgeHours = 0
        return p
    }

    static let causes = ["short", "non-complex", "reused", "reused, in the directory's history only (change)", "too young for a change"]
    static let columns = ["AD domain", "AD PSO", "slapd default", "slapd pwdPolicySubentry"]

    /// Outcome per cause, per column, as measured; "—" where a cause cannot be staged.
    final class Table: Sendable {
        private let state = Mutex<(cells: [String: [String: String]], sources: [String: String])>(([:], [:]))
        func set(_ column: String, _ cause: String, _ value: String) { state.withLock { $0.cells[column, default: [:]][cause] = value } }
        func source(_ column: String, _ value: String) { state.withLock { $0.sources[column] = value } }
        func text() -> String {
            let (cells, sources) = state.withLock { ($0.cells, $0.sources) }
            do {
                let w0 = max(24, PolicyTruthTableTests.causes.map(\.count).max()!)
                func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
                let widths = PolicyTruthTableTests.columns.map { c in max(c.count, (cells[c]?.values.map(\.count).max() ?? 0), 1) }
                var out = ["| " + pad("cause", w0) + " | " + zip(PolicyTruthTableTests.columns, widths).map { pad($0, $1) }.joined(separator: " | ") + " |"]
                out.append("|" + String(repeating: "-", count: w0 + 2) + "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|")
                for cause in PolicyTruthTableTests.causes {
                    out.append("| " + pad(cause, w0) + " | " + zip(PolicyTruthTableTests.columns, widths).map { pad(cells[$0]?[cause] ?? "—", $1) }.joined(separator: " | ") + " |")
                }
                out.append("| " + pad("policy source", w0) + " | " + zip(PolicyTruthTableTests.columns, widths).map { pad(sources[$0] ?? "?", $1) }.joined(separator: " | ") + " |")
                return out.joined(separator: "\n")
            }
        }
    }
    static let table = Table()

    /// Runs `kind` and records the outcome in `column`/`cause`, expecting `expected`.
    static func cell(_ h: PipelineHarness, _ column: String, _ cause: String?, _ kind: RequestKind, user: String,
                     new: String, old: String? = nil, expected: String) async throws {
        let got = try await h.run(kind, user: user, new: new, old: old)
        if let cause {
            table.set(column, cause, got == "succeeded" ? "succeeded (no rule)" : got)
            #expect(got == expected, "\(column) × \(cause)")
        } else {
            #expect(got == expected, "\(column): setup step \(kind) expected \(expected)")
        }
    }

    static func adConfig(_ dc: SambaDC) -> DirectoryConfig {
        var c = DirectoryConfig(flavor: .activeDirectory, uris: [dc.uri], baseDN: dc.usersDN)
        c.caFile = dc.caFile; c.bindDN = dc.bindDN; c.bindPasswordFile = dc.bindPasswordFile
        c.connections = 2; c.timeoutSeconds = 15
        return c
    }

    @Test("Active Directory: the domain policy and a PSO on a group name every refusal")
    func activeDirectory() async throws {
        let dc = try await SambaDC.shared()
        try dc.grantPasswordSettingsRead(to: "svc-writeback")
        let config = Self.adConfig(dc)
        let service = try LDAPDirectoryService(config: config, logger: Logger(label: "test.truth.ad"))
        let h = try PipelineHarness(directory: config, policy: Self.weakPolicy(minLength: 8), service: service, shutdown: { await service.shutdown() })
        defer { Task { await h.close() } }

        // The domain (minPwdLength 12, complexity, history 24, minPwdAge 0).
        let domainUser = SambaDC.uniqueName("truthdom")
        let domainDN = try dc.createUser(sam: domainUser, password: SambaDC.newPassword(), displayName: "Truth Domain")
        let col = "AD domain"
        let p1 = SambaDC.newPassword(), p2 = SambaDC.newPassword(), p3 = SambaDC.newPassword(), p0 = SambaDC.newPassword()
        try await Self.cell(h, col, nil, .reset, user: domainUser, new: p1, expected: "succeeded")
        try await Self.cell(h, col, "short", .reset, user: domainUser, new: "Q7!abcdefgh", expected: "password_policy/too_short")   // 11 < 12
        try await Self.cell(h, col, "non-complex", .reset, user: domainUser, new: "abcdefghijklmnopq", expected: "password_policy/complexity")
        try await Self.cell(h, col, "reused", .reset, user: domainUser, new: p1, expected: "password_policy/history")   // history_count 0 → the domain's 24
        try await Self.cell(h, col, "too young for a change", .change, user: domainUser, new: p2, old: p1, expected: "succeeded")   // minPwdAge 0
        // A password the DC remembers and the daemon never set: the DC's 0000052D is named history.
        try dc.setPassword(dn: domainDN, password: p0)
        try await Self.cell(h, col, nil, .reset, user: domainUser, new: p3, expected: "succeeded")
        try await Self.cell(h, col, "reused, in the directory's history only (change)", .change, user: domainUser, new: p0, old: p3,
                            expected: "password_policy/history")
        let domainFacts = try await service.findUser(identity: domainUser, groupsOfInterest: [])
        Self.table.source(col, try await service.effectivePolicy(for: domainFacts)?.source.name ?? "config")

        // A PSO on a group (14 characters, complexity, history 5, minimum age 1 day).
        let psoUser = SambaDC.uniqueName("truthpso")
        let psoDN = try dc.createUser(sam: psoUser, password: SambaDC.newPassword(), displayName: "Truth Pso")
        let group = try dc.createGroup(cn: SambaDC.uniqueName("pso-grp"), members: [psoDN])
        let psoName = SambaDC.uniqueName("pso")
        try dc.createPSO(cn: psoName, appliesTo: [group], minLength: 14, complexity: true, history: 5, minAgeDays: 1)
        let pcol = "AD PSO"
        let q1 = SambaDC.newPassword(), q2 = SambaDC.newPassword()
        try await Self.cell(h, pcol, nil, .reset, user: psoUser, new: q1, expected: "succeeded")
        try await Self.cell(h, pcol, "short", .reset, user: psoUser, new: "Q7!abcdefghij", expected: "password_policy/too_short")   // 13: ≥ 12, < 14
        try await Self.cell(h, pcol, "non-complex", .reset, user: psoUser, new: "abcdefghijklmnopq", expected: "password_policy/complexity")
        try await Self.cell(h, pcol, "reused", .reset, user: psoUser, new: q1, expected: "password_policy/history")
        try await Self.cell(h, pcol, "too young for a change", .change, user: psoUser, new: q2, old: q1, expected: "password_policy/too_young")
        let psoFacts = try await service.findUser(identity: psoUser, groupsOfInterest: [])
        let source = try await service.effectivePolicy(for: psoFacts)?.source.name ?? "config"
        #expect(source.hasPrefix("pso:CN=\(psoName),"), "\(source)")
        Self.table.source(pcol, "pso:CN=\(psoName),…")
        print("truth table (Samba AD DC) so far:\n" + Self.table.text())
    }

    @Test("OpenLDAP: the default policy and a per-user pwdPolicySubentry name every refusal")
    func openLDAP() async throws {
        try await withSlapd { slapd in
            var config = DirectoryConfig(flavor: .openldap, uris: [slapd.uri], baseDN: slapd.peopleDN)
            config.startTLS = true; config.caFile = slapd.caFile; config.bindDN = slapd.bindDN
            config.bindPasswordFile = slapd.bindPasswordFile; config.connections = 2; config.timeoutSeconds = 10
            let service = try LDAPDirectoryService(config: config, logger: Logger(label: "test.truth.openldap"))
            let h = try PipelineHarness(directory: config, policy: Self.weakPolicy(minLength: 6), service: service, shutdown: { await service.shutdown() })
            defer { Task { await h.close() } }
            let pw = { E2ESetup.newPassword() }

            // The default policy (pwdMinLength 8, pwdCheckQuality 2, pwdInHistory 5, pwdMinAge 0).
            let col = "slapd default"
            let p1 = pw(), p2 = pw()
            try await Self.cell(h, col, nil, .reset, user: "bob", new: p1, expected: "succeeded")
            try await Self.cell(h, col, "short", .reset, user: "bob", new: "Wb7#xyz", expected: "password_policy/too_short")   // 7: ≥ 6, < 8
            try await Self.cell(h, col, "non-complex", .reset, user: "bob", new: "abcdefghijklm", expected: "succeeded")   // ppolicy has no complexity rule
            try await Self.cell(h, col, "reused", .reset, user: "bob", new: p1, expected: "password_policy/history")
            try await Self.cell(h, col, "too young for a change", .change, user: "bob", new: p2, old: "abcdefghijklm", expected: "succeeded")   // pwdMinAge 0
            let bob = try await service.findUser(identity: "bob", groupsOfInterest: [])
            let defaultSource = try await service.effectivePolicy(for: bob)?.source.name
            #expect(defaultSource == "ppolicy:\(slapd.defaultPolicyDN)")
            Self.table.source(col, defaultSource ?? "config")

            // A per-user policy (pwdMinLength 12, pwdInHistory 3, pwdMinAge 3600); its age is
            // wound back before each cause that is not about age, so each cell has one cause.
            let strict = "cn=strict,ou=policies,\(slapd.baseDN)"
            try slapd.modify(ldif: "dn: \(strict)\nobjectClass: namedPolicy\nobjectClass: pwdPolicy\ncn: strict\npwdAttribute: userPassword\n"
                             + "pwdMinLength: 12\npwdInHistory: 3\npwdMinAge: 3600\npwdCheckQuality: 2\n", add: true)
            try slapd.addUser(uid: "truthpp", password: pw(), displayName: "Truth Per-User")
            let dn = slapd.userDN("truthpp")
            try slapd.modify(ldif: "dn: \(dn)\nchangetype: modify\nadd: pwdPolicySubentry\npwdPolicySubentry: \(strict)\n-\n")
            let age = { try slapd.modify(ldif: "dn: \(dn)\nchangetype: modify\nreplace: pwdChangedTime\npwdChangedTime: 20200101000000Z\n-\n", relax: true) }
            let ucol = "slapd pwdPolicySubentry"
            let q1 = pw(), q2 = pw(), q3 = pw()
            try age()
            try await Self.cell(h, ucol, nil, .reset, user: "truthpp", new: q1, expected: "succeeded")
            try age()
            try await Self.cell(h, ucol, "short", .reset, user: "truthpp", new: "Wb7#abcdefg", expected: "password_policy/too_short")   // 11: ≥ 8, < 12
            try await Self.cell(h, ucol, "non-complex", .reset, user: "truthpp", new: "abcdefghijklm", expected: "succeeded")
            try age()
            try await Self.cell(h, ucol, "reused", .reset, user: "truthpp", new: q1, expected: "password_policy/history")
            try await Self.cell(h, ucol, nil, .reset, user: "truthpp", new: q2, expected: "succeeded")
            try await Self.cell(h, ucol, "too young for a change", .change, user: "truthpp", new: q3, old: q2, expected: "password_policy/too_young")
            let pp = try await service.findUser(identity: "truthpp", groupsOfInterest: [])
            let userSource = try await service.effectivePolicy(for: pp)?.source.name
            #expect(userSource == "ppolicy:\(strict)")
            Self.table.source(ucol, userSource ?? "config")
        }
        print("truth table (slapd) so far:\n" + Self.table.text())
    }

    @Test("the table, as measured (printed for the log)")
    func printTable() {
        // Runs last in this serialized suite: prints whatever the two directory tests measured.
        print("\nISSUE-12 TRUTH TABLE (cause × directory → outcome, daemon pipeline, [policy] weaker than each directory)\n" + Self.table.text() + "\n")
    }
}
