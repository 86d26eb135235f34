import Foundation
import Testing
import TestSupport

/// `writebackctl check-password` against a real slapd: the verdict a portal shows before it
/// enqueues (DESIGN.md "Output": exit 0 when the password passes, 1 when a rule fails, 2 on any
/// other error; `--json` prints `{"ok": bool, "failed": [rules in order]}`). The user's names
/// come from the directory (alice is "Alice Anders"), and nothing is written.
@Suite("writebackctl check-password")
struct CheckPasswordTests {
    static let verdicts: [(password: String, failed: [String])] = [
        ("Wb7#kQzrTmxP2v", []),
        ("short", ["too_short", "complexity"]),
        ("alllowercaseletters", ["complexity"]),
        ("Anders#2026xy", ["contains_user_name"]),        // a display-name token
        ("xALICEx#9Qp", ["contains_user_name"]),          // the account name, in any case
        (String(repeating: "Ab1#", count: 70), ["too_long"]),
    ]

    @Test("verdicts in order, as JSON and exit codes; the user's names come from the directory")
    func verdictsForAlice() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd)
            defer { setup.cleanup() }
            for (password, failed) in Self.verdicts {
                let r = try InteropEndToEndTests.ctl(["check-password", "--config", setup.configPath, "--user", "alice", "--json"],
                                                     stdin: password + "\n")
                #expect(r.status == (failed.isEmpty ? 0 : 1), "\(failed): \(r.err)")
                let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
                #expect(json?["ok"] as? Bool == failed.isEmpty)
                #expect(json?["failed"] as? [String] == failed, "\(r.out)")
                // Never echoed (a 5-letter password like "short" is inside the rule name "too_short").
                if password.count >= 8 { #expect(!r.out.contains(password) && !r.err.contains(password)) }
            }
            // Written to nobody: alice still binds with her first password.
            #expect(slapd.bind(user: "alice", password: slapd.initialPassword(of: "alice")))
        }
    }

    @Test("--json adds the user's effective policy: the stricter of [policy] and the ppolicy entry, with its source")
    func effectivePolicy() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd)   // [policy]: min_length 8, complexity, history_count 0
            defer { setup.cleanup() }
            func policy(_ user: String, kind: String = "reset") throws -> [String: Any] {
                let r = try InteropEndToEndTests.ctl(["check-password", "--config", setup.configPath, "--user", user, "--kind", kind, "--json"],
                                                     stdin: "Wb7#kQzrTmxP2v\n")
                #expect(r.status == 0 || r.status == 1, "\(r.out) \(r.err)")
                let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
                return try #require(json?["policy"] as? [String: Any], "\(r.out)")
            }
            let alice = try policy("alice")
            #expect(alice["min_length"] as? Int == 8 && alice["complexity"] as? Bool == true)
            #expect(alice["history"] as? Int == 5, "pwdInHistory 5 beats history_count 0")
            #expect(alice["min_age_hours"] as? Int == 0)
            #expect(alice["source"] as? String == "ppolicy:\(slapd.defaultPolicyDN)")
            // A per-user policy, stricter than [policy]: 16 characters, an hour's minimum age.
            let strict = "cn=strict,ou=policies,\(slapd.baseDN)"
            try slapd.modify(ldif: "dn: \(strict)\nobjectClass: namedPolicy\nobjectClass: pwdPolicy\ncn: strict\npwdAttribute: userPassword\n"
                             + "pwdMinLength: 16\npwdInHistory: 2\npwdMinAge: 3600\npwdCheckQuality: 2\n", add: true)
            try slapd.modify(ldif: "dn: \(slapd.userDN("bob"))\nchangetype: modify\nadd: pwdPolicySubentry\npwdPolicySubentry: \(strict)\n-\n")
            let bob = try policy("bob", kind: "change")
            #expect(bob["min_length"] as? Int == 16 && bob["history"] as? Int == 2 && bob["min_age_hours"] as? Int == 1)
            #expect(bob["source"] as? String == "ppolicy:\(strict)")
            // Judged with it: 14 characters are too short for bob, not for alice.
            let short = try InteropEndToEndTests.ctl(["check-password", "--config", setup.configPath, "--user", "bob", "--json"], stdin: "Wb7#kQzrTmxP2v\n")
            #expect(short.status == 1 && short.out.contains("\"too_short\""), "\(short.out)")
            let text = try InteropEndToEndTests.ctl(["check-password", "--config", setup.configPath, "--user", "bob"], stdin: "Wb7#kQzrTmxP2v\n")
            #expect(text.out.contains("policy (ppolicy:\(strict)): at least 16 characters"), "\(text.out)")
        }
    }

    @Test("text output names each rule in the request's language; CRLF is one newline; errors exit 2")
    func textLocaleAndErrors() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd)
            defer { setup.cleanup() }
            let zh = try InteropEndToEndTests.ctl(["check-password", "--config", setup.configPath, "--user", "alice",
                                                   "--locale", "zh-CN"], stdin: "short\r\n")
            #expect(zh.status == 1)
            #expect(zh.out.contains("too_short") && zh.out.contains("至少需要 8 个字符"), "\(zh.out)")
            let ok = try InteropEndToEndTests.ctl(["check-password", "--config", setup.configPath, "--user", "alice"],
                                                  stdin: "Wb7#kQzrTmxP2v\r\n")
            #expect(ok.status == 0 && ok.out.contains("ok"), "\(ok.out) \(ok.err)")
            let unknown = try InteropEndToEndTests.ctl(["check-password", "--config", setup.configPath, "--user", "nobody-here"],
                                                       stdin: "Wb7#kQzrTmxP2v\n")
            #expect(unknown.status == 2 && unknown.err.contains("no user matches"), "\(unknown.err)")
            let badConfig = try InteropEndToEndTests.ctl(["check-password", "--config", setup.dir + "/missing.toml", "--user", "alice"],
                                                         stdin: "x\n")
            #expect(badConfig.status == 2)
        }
    }
}
