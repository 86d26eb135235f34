/// The languages confirmations are written in, and how a request's BCP 47 `locale` maps onto
/// them: Traditional Chinese for `zh-Hant*`, `zh-TW`, `zh-HK`, `zh-MO`; Simplified Chinese for
/// `zh`, `zh-Hans*`, `zh-CN`, `zh-SG` (and any other `zh-*`); English for everything else,
/// including no locale at all.
public enum OutboxLocale: String, Sendable, Hashable, CaseIterable, Codable {
    case english = "en"
    case simplifiedChinese = "zh-CN"
    case traditionalChinese = "zh-TW"

    public init(tag: String?) {
        let subtags = (tag ?? "").lowercased().replacingOccurrences(of: "_", with: "-")
            .split(separator: "-").map(String.init)
        guard subtags.first == "zh" else { self = .english; return }
        let rest = subtags.dropFirst()
        if rest.contains("hant") { self = .traditionalChinese; return }
        if rest.contains("hans") { self = .simplifiedChinese; return }
        if rest.contains(where: { ["tw", "hk", "mo"].contains($0) }) { self = .traditionalChinese; return }
        self = .simplifiedChinese
    }
}

/// The four messages there are templates for.
enum TemplateName: String, Sendable, CaseIterable {
    case reset, change, unlock
    /// To `admin_notify`, when an administrator reset someone's password.
    case adminReset = "admin-reset"
}

/// The templates compiled into the binary (generated from `templates/*.txt`), so that the
/// daemon writes correct messages with no template files installed.
enum BuiltinTemplates {
    static func source(_ name: TemplateName, _ locale: OutboxLocale) -> String {
        let table: [String: String] = switch locale {
        case .english: english
        case .simplifiedChinese: simplifiedChinese
        case .traditionalChinese: traditionalChinese
        }
        return table[name.rawValue]!
    }
}
