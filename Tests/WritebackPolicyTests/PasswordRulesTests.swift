import Foundation
import Testing
import WritebackCore
@testable import WritebackPolicy

/// One password and the rules it must fail, in order (engine: min 8, max 256, complexity on,
/// no banned terms unless said, user `jdoe` / "Doe, Jane").
struct RuleCase: Sendable, CustomTestStringConvertible {
    var name: String
    var password: String
    var expected: [PasswordRule]
    var testDescription: String { name }
    init(_ name: String, _ password: String, _ expected: [PasswordRule]) {
        self.name = name; self.password = password; self.expected = expected
    }
}

@Suite struct PasswordRulesTests {
    static let engine = Fixture.engine(banned: BannedPasswordList(terms: [], includeGlobal: false))

    static let cases: [RuleCase] = [
        // Length edges
        .init("empty", "", [.tooShort, .complexity]),
        .init("7 chars", "Ab1!xyz", [.tooShort]),
        .init("8 chars", "Ab1!xyzq", []),
        .init("256 chars", "Ab1!" + String(repeating: "q", count: 252), []),
        .init("257 chars", "Ab1!" + String(repeating: "q", count: 253), [.tooLong]),
        .init("10,000 chars", String(repeating: "Ab1!", count: 2500), [.tooLong]),
        .init("10,000 chars one class", String(repeating: "a", count: 10_000), [.tooLong, .complexity]),
        .init("NUL bytes count as characters", "Ab1\0\0\0\0\0", []),
        .init("NUL only", String(repeating: "\0", count: 8), [.complexity]),
        .init("7 + NUL", "Ab1!xyz\0", []),
        .init("combining marks count separately", "Ae\u{301}1e\u{301}!x", []),
        .init("4 decomposed letters = 8 scalars, one class", String(repeating: "e\u{301}", count: 4), [.complexity]),
        .init("emoji count once", "😀😀😀😀Ab1", [.tooShort]),
        .init("emoji 8 scalars", "😀😀😀😀😀Ab1", []),
        .init("flag is two scalars", "🇹🇼🇹🇼🇹🇼Ab", []),
        .init("ZWJ family", "👨‍👩‍👧Ab1", []),
        // Complexity: classes
        .init("lower only", "abcdefgh", [.complexity]),
        .init("upper only", "ABCDEFGH", [.complexity]),
        .init("digits only", "12345678", [.complexity]),
        .init("symbols only", "!@#$%^&*", [.complexity]),
        .init("lower+upper", "abcdEFGH", [.complexity]),
        .init("lower+digit", "abcd1234", [.complexity]),
        .init("upper+symbol", "ABCD!@#$", [.complexity]),
        .init("lower+upper+digit", "abcdEF12", []),
        .init("upper+digit+symbol", "ABCD12!@", []),
        .init("lower+digit+symbol", "abcd12!@", []),
        .init("all four", "aB3$aB3$", []),
        .init("space is no class", "ab cd EF  ", [.complexity]),
        .init("tab is no class", "ab\tcdEFGH", [.complexity]),
        .init("every ASCII symbol counts", "abcd1234~", []),
        .init("backslash", "abcd1234\\", []),
        .init("backtick", "abcd1234`", []),
        .init("currency is not a symbol", "abcd1234€", [.complexity]),
        .init("pound is not a symbol", "abcd££££", [.complexity]),
        .init("yen is not a symbol", "ABCD¥¥¥¥", [.complexity]),
        .init("CJK is another letter", "密码密码abcd12", []),
        .init("CJK + digits only", "密码密码密码1234", [.complexity]),
        .init("CJK + lower + upper", "密码Ab密码Ab", []),
        .init("CJK punctuation is a symbol", "密码密码。。ab", []),
        .init("Hiragana other letter", "ぱすわーどAb1", []),
        .init("Hangul other letter", "비밀번호ab12", []),
        .init("full-width digits count as digits", "Pass１２３４", []),
        .init("full-width letters have case", "ｐａｓｓＷＯＲＤ", [.complexity]),
        .init("full-width lower+upper+digit", "ｐａｓｓＷ１２３", []),
        .init("full-width exclamation is a symbol", "ａｂｃｄ１２！！", []),
        .init("Arabic-Indic digits", "مرحبا١٢٣٤", [.complexity]),
        .init("Arabic letters + digits + symbol", "مرحبا١٢٣!", []),
        .init("Hebrew RTL + digits + symbol", "שלוםשלום12!", []),
        .init("RTL mark is no class", "\u{200F}שלום1234", [.complexity]),
        .init("Greek upper/lower/digit", "Σσλμ1234", []),
        .init("Cyrillic upper/lower/digit", "Пароль12", []),
        .init("titlecase digraph is upper", "ǅabc1234", []),
        .init("modifier letter is another letter", "ʰʰʰʰab12", []),
        .init("emoji is a symbol", "abcd1234😀", []),
        .init("emoji + lower only", "😀😀😀😀abcd", [.complexity]),
        .init("superscript digits are not digits", "abcdEF²³", [.complexity]),
        .init("roman numeral is not a digit", "abcdEFⅫⅫ", [.complexity]),
        .init("combining mark alone no class", "abcd\u{301}\u{301}EF", [.complexity]),
        .init("control chars no class", "abcd\u{1}\u{2}EF", [.complexity]),
        // contains_user_name
        .init("account name", "xxjdoexx1!A", [.containsUserName]),
        .init("account name upper case", "XXJDOEXX1!a", [.containsUserName]),
        .init("display token jane", "Jane2024!!x", [.containsUserName]),
        .init("display token doe (3)", "Adoe1234!", [.containsUserName]),
        .init("partial account name is fine", "xxjdoxx1!A", []),
        .init("reversed name is fine", "EODJxx1!a", []),
        .init("everything at once", "jdoe", [.tooShort, .complexity, .containsUserName]),
    ]

    @Test(arguments: cases)
    func rule(_ c: RuleCase) {
        #expect(Self.engine.passwordViolations(c.password, user: Fixture.user(), inHistory: false, now: Fixture.now) == c.expected)
    }

    /// Every length 0…40 around min 8 / max 24 with a complex pattern.
    @Test(arguments: 0...40)
    func lengthEdges(length: Int) {
        var policy = Fixture.policy(); policy.minLength = 8; policy.maxLength = 24
        let engine = Fixture.engine(policy, banned: .init(terms: [], includeGlobal: false))
        let pw = String(String(repeating: "Zq7%", count: 11).prefix(length))
        var expected: [PasswordRule] = []
        if length < 8 { expected.append(.tooShort) }
        if length > 24 { expected.append(.tooLong) }
        if length < 3 { expected.append(.complexity) }
        #expect(engine.passwordViolations(pw, user: Fixture.user(), inHistory: false, now: Fixture.now) == expected)
    }

    /// All 32 combinations of the five classes: complexity passes from 3 classes on.
    @Test(arguments: 0..<32)
    func classCombinations(mask: Int) {
        let samples = ["QWXZ", "qwxz", "4826", "%&*?", "漢字かな"]
        var pw = ""
        for i in 0..<5 where mask & (1 << i) != 0 { pw += samples[i] }
        let classes = mask.nonzeroBitCount
        #expect(PasswordRules.meetsComplexity(pw.unicodeScalars) == (classes >= 3), "mask \(mask)")
        #expect(PasswordRules.classes(of: pw.unicodeScalars).count == classes)
    }

    /// The class of every ASCII printable character.
    @Test(arguments: 0x20...0x7E)
    func asciiClass(value: Int) {
        let s = Unicode.Scalar(UInt8(value))
        let c = PasswordRules.classify(s)
        switch s {
        case "A"..."Z": #expect(c == .upper)
        case "a"..."z": #expect(c == .lower)
        case "0"..."9": #expect(c == .digit)
        case " ": #expect(c == [])
        default: #expect(c == .symbol)
        }
    }

    @Test(arguments: [
        ("jdoe", "Doe, Jane", "Jane", true),
        ("jd", nil, "jd123456", false),
        ("abc", nil, "xxABCxx", true),
        ("ab", "Li, Wu", "liwuab12", false),
        ("zs", "Zhang-San_Li#Xiao\tMing", "xxMINGxx", true),
        ("zs", "Zhang-San_Li#Xiao\tMing", "xxSANxx", true),
        ("zs", "Zhang-San_Li#Xiao\tMing", "xxLIxx", false),
        ("zs", "Zhang.San", "xxzhangxx", true),
        ("u1", "王小明", "王小明Ab12", true),
        ("u1", "王 小明", "王小明Ab12", false),
        ("omer", "Ömer Çelik", "ÖMER!!", true),
        ("omer", "Ömer Çelik", "çelik", true),
        ("x", "  ,,  ", "anything", false),
        ("x", "", "anything", false),
        ("JDoe", nil, "myjdoe", true),
        ("j.doe", nil, "j.doe123", true),
        ("j.doe", nil, "jdoe123", false),
    ] as [(String, String?, String, Bool)])
    func userName(account: String, display: String?, password: String, expected: Bool) {
        #expect(PasswordRules.containsUserName(Array(password.unicodeScalars), accountName: account, displayName: display) == expected)
    }

    @Test(arguments: [
        (0.0, -1.0, false), (24, 23, true), (24, 24.01, false), (24, 0, true), (0.5, 0.25, true), (24, -1, false),
    ] as [(Double, Double, Bool)])
    func tooYoung(minAgeHours: Double, changedHoursAgo: Double, young: Bool) {
        var policy = Fixture.policy(); policy.minAgeHours = minAgeHours
        let engine = Fixture.engine(policy, banned: .init(terms: [], includeGlobal: false))
        var user = Fixture.user()
        user.passwordChangedAt = changedHoursAgo < 0 ? nil : Fixture.now.addingTimeInterval(-changedHoursAgo * 3600)
        let v = engine.passwordViolations("Ab1!xyzq", user: user, inHistory: false, now: Fixture.now)
        #expect(v == (young ? [.tooYoung] : []))
    }

    @Test func historyFlag() {
        #expect(Self.engine.passwordViolations("Ab1!xyzq", user: Fixture.user(), inHistory: true, now: Fixture.now) == [.history])
    }

    @Test func complexityOff() {
        var policy = Fixture.policy(); policy.complexity = false
        let engine = Fixture.engine(policy, banned: .init(terms: [], includeGlobal: false))
        #expect(engine.passwordViolations("abcdefgh", user: Fixture.user(), inHistory: false, now: Fixture.now) == [])
    }

    /// Every rule failing at once, reported in the contract's order.
    @Test func allRulesInOrder() throws {
        var policy = Fixture.policy(); policy.minAgeHours = 1
        let dir = try TempDir()
        let path = dir.path + "/breached.txt"
        try (String(decoding: BreachedPasswordList.sha1Hex(Array("jdoe".utf8)), as: UTF8.self) + ":3\n").write(toFile: path, atomically: true, encoding: .utf8)
        let engine = PolicyEngine(policy: policy, licenses: .init(), banned: .init(terms: ["jdoe"], includeGlobal: false),
                                  breached: try BreachedPasswordList(path: path))
        var user = Fixture.user(); user.passwordChangedAt = Fixture.now
        let v = engine.passwordViolations("jdoe", user: user, inHistory: true, now: Fixture.now)
        #expect(v == [.tooShort, .complexity, .containsUserName, .banned, .breached, .history, .tooYoung])
        #expect(PolicyEngine.outcome(for: v) == .passwordPolicy(.tooShort))
        #expect(PolicyEngine.outcome(for: []) == nil)
        var policy2 = policy; policy2.maxLength = 2
        let v2 = PolicyEngine(policy: policy2, licenses: .init()).passwordViolations("jdoe", user: user, inHistory: false, now: Fixture.now)
        #expect(v2.prefix(3) == [.tooShort, .tooLong, .complexity])
    }

    @Test func secretOverload() {
        #expect(Self.engine.passwordViolations(Secret("Ab1!xyzq"), user: Fixture.user(), inHistory: false, now: Fixture.now) == [])
        #expect(Self.engine.passwordViolations(Secret(bytes: [0xFF, 0xFE, 0x41]), user: Fixture.user(), inHistory: false, now: Fixture.now) == [.complexity])
    }
}
