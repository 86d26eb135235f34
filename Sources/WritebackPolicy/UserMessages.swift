import WritebackCore

/// The locales user-facing messages exist in.
///
/// It exists so a request's BCP 47 `locale` (whatever the portal sends: `zh-Hant-TW`,
/// `zh_CN`, `en-GB`, an Accept-Language list) maps to one of the three catalogues, always.
public enum MessageLocale: String, Sendable, CaseIterable, Hashable {
    case en
    case zhCN = "zh-CN"
    case zhTW = "zh-TW"

    /// `zh-Hant*`, `zh-TW`, `zh-HK`, `zh-MO` → zh-TW; `zh`, `zh-Hans*`, `zh-CN`, `zh-SG` and any
    /// other `zh-*` → zh-CN; anything else (including nil, empty, malformed) → en.
    /// Case and `_` vs `-` do not matter; of a comma-separated list only the first entry counts.
    public static func resolve(_ tag: String?) -> MessageLocale {
        guard let tag else { return .en }
        let first = tag.split(separator: ",").first.map(String.init) ?? ""
        let cleaned = first.split(separator: ";").first.map(String.init) ?? ""
        let parts = cleaned.trimmingCharacters(in: .whitespaces).lowercased()
            .split(whereSeparator: { $0 == "-" || $0 == "_" }).map(String.init)
        guard parts.first == "zh" || parts.first == "cmn" || parts.first == "yue" else { return .en }
        let rest = parts.dropFirst()
        if rest.contains("hant") { return .zhTW }
        if rest.contains("hans") { return .zhCN }
        if rest.contains(where: { ["tw", "hk", "mo"].contains($0) }) { return .zhTW }
        return parts.first == "yue" ? .zhTW : .zhCN
    }
}

/// The user-facing text for every outcome, in English, Simplified and Traditional Chinese, in
/// the spirit of Entra SSPR's messages ("Your account is not enabled for password reset",
/// "Please contact your administrator").
///
/// It exists so the portal, the confirmation mail and `check-password` say the same thing in
/// the user's language. Messages never contain user data; the optional `policy` only fills in
/// configured numbers (minimum length, maximum length, minimum age).
public enum UserMessages {
    /// The message for `outcome` in the locale resolved from `locale`. A `password_policy`
    /// outcome whose detail names a rule gets that rule's message; `sspr_disabled` with
    /// `unlock_disabled` gets its own.
    public static func message(for outcome: Outcome, locale: String?, policy: PolicyConfig? = nil) -> String {
        message(for: outcome, in: MessageLocale.resolve(locale), policy: policy)
    }

    public static func message(for outcome: Outcome, in locale: MessageLocale, policy: PolicyConfig? = nil) -> String {
        switch outcome.code {
        case .passwordPolicy:
            if let detail = outcome.detail, let rule = PasswordRule(rawValue: detail) {
                return message(for: rule, in: locale, policy: policy)
            }
        case .ssprDisabled where outcome.detail == PolicyEngine.Detail.unlockDisabled:
            return MessageCatalog.unlockDisabled(locale)
        default:
            break
        }
        return MessageCatalog.text(for: outcome.code, locale)
    }

    /// The message for one code, without looking at a detail.
    public static func message(for code: OutcomeCode, in locale: MessageLocale) -> String {
        MessageCatalog.text(for: code, locale)
    }

    /// The message for one password rule; with `policy`, the configured number is added for
    /// `too_short`, `too_long` and `too_young`.
    public static func message(for rule: PasswordRule, in locale: MessageLocale, policy: PolicyConfig? = nil) -> String {
        var text = MessageCatalog.text(for: rule, locale)
        if let policy, let extra = MessageCatalog.limit(for: rule, policy: policy, locale) {
            text += (locale == .en ? " " : "") + extra
        }
        return text
    }

    /// The messages for several failing rules, one per line, in order (for `check-password`).
    public static func messages(for rules: [PasswordRule], locale: String?, policy: PolicyConfig? = nil) -> [String] {
        let resolved = MessageLocale.resolve(locale)
        return rules.map { message(for: $0, in: resolved, policy: policy) }
    }
}
