import Foundation
import Testing
import WritebackCore
@testable import WritebackPolicy

/// The stricter of `[policy]` and the directory's policy, and the rule named for a refusal the
/// directory does not explain (AD `0000052D`): pure, one line per case.
@Suite struct EffectivePolicyTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let day = 86_400.0

    static func config(min: Int = 8, complexity: Bool = false, history: Int = 0, ageHours: Double = 0) -> PolicyConfig {
        var p = PolicyConfig()
        p.minLength = min; p.complexity = complexity; p.historyCount = history; p.minAgeHours = ageHours
        return p
    }

    static let domain = DirectoryPasswordPolicy(source: .domain, minLength: 12, complexity: true, historyLength: 24, minAge: 0,
                                                minAgeOnReset: false, historyOnReset: false)
    static let pso = DirectoryPasswordPolicy(source: .pso("CN=Strict,CN=Password Settings Container,CN=System,DC=example,DC=test"),
                                             minLength: 14, complexity: false, historyLength: 5, minAge: day,
                                             minAgeOnReset: false, historyOnReset: false)
    static let ppolicy = DirectoryPasswordPolicy(source: .ppolicy("cn=default,ou=policies,dc=example,dc=org"), minLength: 8,
                                                 complexity: false, historyLength: 5, minAge: 3600, minAgeOnReset: true, historyOnReset: true)

    @Test("each rule takes the stricter value; the source names the directory's policy")
    func combine() {
        let e = EffectivePolicy(config: Self.config(min: 8, complexity: false, history: 0), directory: Self.domain, kind: .reset)
        #expect(e.minLength == 12 && e.complexity && e.historyCount == 24 && e.history == 24 && e.minAgeHours == 0 && e.source == "domain")
        // ppolicy keeps its own history on resets: the daemon derives no extra hashes for it.
        let pp = EffectivePolicy(config: Self.config(history: 0), directory: Self.ppolicy, kind: .reset)
        #expect(pp.historyCount == 0 && pp.history == 5)
        let stricterConfig = EffectivePolicy(config: Self.config(min: 20, complexity: true, history: 30, ageHours: 2), directory: Self.domain, kind: .reset)
        #expect(stricterConfig.minLength == 20 && stricterConfig.historyCount == 30 && stricterConfig.minAgeHours == 2)
        let none = EffectivePolicy(config: Self.config(min: 9), directory: nil, kind: .reset)
        #expect(none.minLength == 9 && none.source == "config" && none.historyCount == 0)
        #expect(EffectivePolicy(config: Self.config(), directory: Self.pso).source.hasPrefix("pso:CN=Strict,"))
        #expect(EffectivePolicy(config: Self.config(), directory: Self.ppolicy).source == "ppolicy:cn=default,ou=policies,dc=example,dc=org")
    }

    @Test("the directory's minimum age counts where the directory applies it", arguments: [
        (RequestKind.reset, "pso", 0.0), (.change, "pso", 24.0), (.reset, "ppolicy", 1.0), (.change, "ppolicy", 1.0),
    ])
    func minimumAge(kind: RequestKind, which: String, hours: Double) {
        let e = EffectivePolicy(config: Self.config(), directory: which == "pso" ? Self.pso : Self.ppolicy, kind: kind)
        #expect(e.minAgeHours == hours)
    }

    @Test("applied(to:) puts the rules into a PolicyConfig and keeps max_length ≥ min_length")
    func applied() {
        var c = Self.config()
        c.maxLength = 10
        let p = EffectivePolicy(config: c, directory: Self.pso, kind: .change).applied(to: c)
        #expect(p.minLength == 14 && p.maxLength == 14 && p.historyCount == 5 && p.minAgeHours == 24)
        #expect(p.bannedPasswordsFile == c.bannedPasswordsFile && p.ssprScope == c.ssprScope)
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var directory: DirectoryPasswordPolicy?
        var password: String
        var kind: RequestKind = .reset
        var changedHoursAgo: Double? = 100 * 24
        var expected: PasswordRule
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        .init(name: "no directory policy: directory_rule", directory: nil, password: "Aa1!aaaaaaaaaaaa", expected: .directoryRule),
        .init(name: "too short for the domain", directory: domain, password: "Aa1!aaaa", expected: .tooShort),
        .init(name: "not complex for the domain", directory: domain, password: "aaaaaaaaaaaaaaaa", expected: .complexity),
        .init(name: "the account name inside, for the domain's complexity", directory: domain, password: "Xx1!jdoe-secret", expected: .containsUserName),
        .init(name: "domain reset: nothing explains (no history on resets without hints)", directory: domain, password: "Aa1!aaaaaaaaaaaa", expected: .directoryRule),
        .init(name: "domain change: only history explains", directory: domain, password: "Aa1!aaaaaaaaaaaa", kind: .change, expected: .history),
        .init(name: "domain reset with hints: only history explains",
              directory: DirectoryPasswordPolicy(source: .domain, minLength: 12, complexity: true, historyLength: 24, minAge: 0, minAgeOnReset: false, historyOnReset: true),
              password: "Aa1!aaaaaaaaaaaa", expected: .history),
        .init(name: "domain without history: nothing explains a change", directory: DirectoryPasswordPolicy(source: .domain, minLength: 12, complexity: true, historyLength: 0, minAge: 0, minAgeOnReset: false, historyOnReset: false),
              password: "Aa1!aaaaaaaaaaaa", kind: .change, expected: .directoryRule),
        .init(name: "PSO change too young", directory: pso, password: "Aa1!aaaaaaaaaaaa", kind: .change, changedHoursAgo: 2, expected: .tooYoung),
        .init(name: "PSO change old enough: history", directory: pso, password: "Aa1!aaaaaaaaaaaa", kind: .change, changedHoursAgo: 48, expected: .history),
        .init(name: "PSO change, age unknown (must change): history", directory: pso, password: "Aa1!aaaaaaaaaaaa", kind: .change, changedHoursAgo: nil, expected: .history),
        .init(name: "PSO reset too young: AD does not apply age to resets", directory: pso, password: "Aa1!aaaaaaaaaaaa", changedHoursAgo: 2, expected: .directoryRule),
        .init(name: "ppolicy reset too young", directory: ppolicy, password: "Aa1!aaaaaaaa", changedHoursAgo: 0.5, expected: .tooYoung),
        .init(name: "ppolicy short beats young", directory: ppolicy, password: "Aa1!", changedHoursAgo: 0.5, expected: .tooShort),
        .init(name: "hostile: empty password", directory: domain, password: "", expected: .tooShort),
        .init(name: "hostile: NUL and controls only", directory: domain, password: String(repeating: "\u{0}\u{1}", count: 8), expected: .complexity),
    ]

    @Test("a refusal is named by the directory's policy", arguments: refusals)
    func explain(_ c: Refusal) {
        let user = DirectoryUser(dn: "CN=jdoe,OU=People,DC=example,DC=test", accountName: "jdoe", displayName: "Doe, Jane",
                                 passwordChangedAt: c.changedHoursAgo.map { Self.now.addingTimeInterval(-$0 * 3600) })
        let e = EffectivePolicy(config: Self.config(), directory: c.directory, kind: c.kind)
        #expect(e.explainRefusal(of: c.password, user: user, kind: c.kind, now: Self.now) == c.expected)
    }

    @Test("the engine judges with the effective rules")
    func engineWith() {
        let engine = PolicyEngine(policy: Self.config(min: 8, complexity: false), licenses: LicensesConfig())
        let user = DirectoryUser(dn: "uid=x", accountName: "xq")
        #expect(engine.passwordViolations("abcdefghij", user: user, inHistory: false, now: Self.now).isEmpty)
        let strict = engine.with(EffectivePolicy(config: engine.policy, directory: Self.domain, kind: .reset))
        #expect(strict.passwordViolations("abcdefghij", user: user, inHistory: false, now: Self.now) == [.tooShort, .complexity])
    }
}
