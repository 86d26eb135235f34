import Foundation
import Testing
import WritebackCore
@testable import WritebackPolicy

/// Every code and every rule has a message in every locale, and locale tags resolve with
/// fallback.
@Suite struct MessagesTests {
    static func hasCJK(_ s: String) -> Bool { s.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } }

    /// Fails when any outcome code lacks a message in any locale (or shares one across locales).
    @Test(arguments: OutcomeCode.allCases)
    func everyCodeHasAMessage(code: OutcomeCode) {
        let texts = MessageLocale.allCases.map { UserMessages.message(for: code, in: $0) }
        for (locale, text) in zip(MessageLocale.allCases, texts) {
            #expect(!text.trimmingCharacters(in: .whitespaces).isEmpty, "\(code) \(locale)")
            #expect(Self.hasCJK(text) == (locale != .en), "\(code) \(locale)")
        }
        #expect(Set(texts).count == MessageLocale.allCases.count, "\(code): locales share a text")
    }

    @Test(arguments: PasswordRule.allCases)
    func everyRuleHasAMessage(rule: PasswordRule) {
        let texts = MessageLocale.allCases.map { UserMessages.message(for: .passwordPolicy(rule), in: $0) }
        for (locale, text) in zip(MessageLocale.allCases, texts) {
            #expect(!text.isEmpty)
            #expect(Self.hasCJK(text) == (locale != .en), "\(rule) \(locale)")
            #expect(text != UserMessages.message(for: .passwordPolicy, in: locale), "\(rule) falls back to the generic text")
        }
        #expect(Set(texts).count == 3)
    }

    @Test func messagesAreDistinctPerLocale() {
        for locale in MessageLocale.allCases {
            let codes = OutcomeCode.allCases.map { UserMessages.message(for: $0, in: locale) }
            let rules = PasswordRule.allCases.map { UserMessages.message(for: $0, in: locale) }
            #expect(Set(rules).count == rules.count, "\(locale)")
            // not_in_scope and sspr_disabled may read alike, but not identically.
            #expect(Set(codes).count == codes.count, "\(locale)")
        }
    }

    @Test(arguments: [
        ("en", MessageLocale.en), ("en-US", .en), ("fr-FR", .en), ("de", .en), (nil, .en), ("", .en), ("garbage!!", .en),
        ("zh", .zhCN), ("zh-CN", .zhCN), ("zh-cn", .zhCN), ("zh_CN", .zhCN), ("zh-Hans", .zhCN), ("zh-Hans-CN", .zhCN),
        ("zh-Hans-HK", .zhCN), ("zh-SG", .zhCN), ("ZH", .zhCN), ("cmn", .zhCN), ("zh-CN;q=0.9", .zhCN),
        ("zh-TW", .zhTW), ("zh-tw", .zhTW), ("zh_TW", .zhTW), ("zh-Hant", .zhTW), ("zh-Hant-TW", .zhTW), ("zh-HK", .zhTW),
        ("zh-MO", .zhTW), ("zh-Hant-HK", .zhTW), ("yue", .zhTW), ("zh-TW,zh;q=0.9,en;q=0.8", .zhTW),
        ("en,zh-TW", .en), ("zho", .en), ("zhx", .en), (" zh-TW ", .zhTW),
    ] as [(String?, MessageLocale)])
    func localeResolution(tag: String?, expected: MessageLocale) {
        #expect(MessageLocale.resolve(tag) == expected)
    }

    @Test func detailsPickTheRightMessage() {
        let policy = Fixture.policy()
        #expect(UserMessages.message(for: .passwordPolicy(.tooShort), locale: "en", policy: policy).contains("at least 8 characters"))
        #expect(UserMessages.message(for: .passwordPolicy(.tooShort), locale: "zh-Hant-TW", policy: policy).contains("8 個字元"))
        #expect(UserMessages.message(for: .passwordPolicy(.tooLong), locale: "zh", policy: policy).contains("256"))
        #expect(UserMessages.message(for: .passwordPolicy(.tooShort), locale: "en") == "Your new password is too short.")
        #expect(UserMessages.message(for: Outcome(.passwordPolicy, detail: "nonsense"), locale: "en")
                == UserMessages.message(for: .passwordPolicy, in: .en))
        #expect(UserMessages.message(for: Outcome(.ssprDisabled, detail: "unlock_disabled"), locale: "en").contains("Unlocking"))
        #expect(UserMessages.message(for: Outcome(.ssprDisabled), locale: "en") == "Your account is not enabled for password reset. Please contact your administrator.")
        #expect(UserMessages.message(for: Outcome(.insufficientVerification), locale: "en").hasPrefix("We could not verify your account"))
        var young = policy; young.minAgeHours = 24
        #expect(UserMessages.message(for: .passwordPolicy(.tooYoung), locale: "zh-CN", policy: young).contains("24 小时"))
        #expect(UserMessages.messages(for: [.tooShort, .complexity], locale: "zh-TW").count == 2)
    }
}
