import Foundation
import Testing
import TestSupport
@testable import LDAPDirectory
import WritebackCore
import WritebackPolicy

/// The policy engine in front of a real AD: the rules it knows refuse a password by name
/// before anything is written, and so do the domain's own rules (here: its minimum length of
/// 12, above the engine's 8), read as the user's effective policy (issue 12).
@Suite("Active Directory with the policy engine (Samba AD DC)")
struct ActiveDirectoryPolicyTests {
    /// Fast scrypt for tests; production uses N=2^15.
    static let hasher = PasswordHistoryHasher(logN: 10)

    /// The pipeline's order: password rules (with the daemon's history), then the write; a
    /// successful write is remembered in the history.
    final class Pipeline {
        let engine = PolicyEngine(policy: PolicyConfig(), licenses: LicensesConfig())
        let directory: LDAPDirectoryService
        var history: PasswordHistoryRecord?
        var writes = 0

        init(directory: LDAPDirectoryService) { self.directory = directory }

        func reset(_ user: DirectoryUser, to password: String) async throws -> Outcome {
            let secret = Secret(password)
            let inHistory = try ActiveDirectoryPolicyTests.hasher.isInHistory(password: secret, record: history)
            let effective = EffectivePolicy(config: engine.policy, directory: try await directory.effectivePolicy(for: user), kind: .reset)
            let violations = engine.with(effective).passwordViolations(secret, user: user, inHistory: inHistory, now: Date())
            if let refusal = PolicyEngine.outcome(for: violations) { return refusal }
            writes += 1
            let directory = self.directory
            if let error = await ADFixture.error({ try await directory.apply(ADFixture.reset(password), to: user) }) {
                if case .passwordRejected(.directoryRule, _) = error {
                    return .passwordPolicy(effective.explainRefusal(of: password, user: user, kind: .reset, now: Date()))
                }
                return error.outcome
            }
            let entry = try ActiveDirectoryPolicyTests.hasher.entry(for: secret, existing: history)
            history = PasswordHistoryRecord(salt: entry.salt, hashes: [entry.hash] + (history?.hashes ?? []))
            return .succeeded
        }
    }

    @Test func engineNamesTheRuleDomainSaysDirectoryRule() async throws {
        let dc = try await ADFixture.dc()
        let svc = try ADFixture.service(dc)
        defer { Task { await svc.shutdown() } }
        let account = try ADFixture.user(dc, "policy", displayName: "Polly Policy")
        let user = try await svc.findUser(identity: account.sam, groupsOfInterest: [])
        let pipeline = Pipeline(directory: svc)

        let first = SambaDC.newPassword()
        #expect(try await pipeline.reset(user, to: first) == .succeeded)
        #expect(dc.bind(dn: user.dn, password: first).succeeded)

        let cases: [(String, Outcome)] = [
            ("Sh0rt!x", .passwordPolicy(.tooShort)),
            ("alllowercaseletters", .passwordPolicy(.complexity)),
            ("ALLUPPERCASE1234", .passwordPolicy(.complexity)),
            ("Xx9!Polly-2025", .passwordPolicy(.containsUserName)),
            (first, .passwordPolicy(.history)),          // Samba applies no history to resets
            ("Ab3$efgh9", .passwordPolicy(.tooShort)),   // 9 ≥ 8 for [policy], < 12 for the domain: named before writing
        ]
        for (password, expected) in cases {
            let writesBefore = pipeline.writes
            let outcome = try await pipeline.reset(user, to: password)
            #expect(outcome == expected, "\(expected)")
            #expect(pipeline.writes == writesBefore, "no refusal reaches the directory")
            #expect(dc.bind(dn: user.dn, password: first).succeeded, "the password is unchanged after \(expected)")
        }
    }
}
