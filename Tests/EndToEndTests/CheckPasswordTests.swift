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
