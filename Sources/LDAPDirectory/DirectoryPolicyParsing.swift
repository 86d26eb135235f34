import Foundation
import WritebackCore

/// Turns the attributes of a password-policy entry into a `DirectoryPasswordPolicy`: an AD
/// Password Settings Object, the AD domain head, or an OpenLDAP ppolicy entry. Pure and
/// strict, since these values come from the directory's data: a missing or malformed number
/// counts as "no rule" for that attribute (never a crash, never a negative length), and an
/// entry that carries none of the attributes (the service account may not read them) is nil.
public enum DirectoryPolicyParsing {
    public static let psoAttributes = ["msDS-MinimumPasswordLength", "msDS-PasswordComplexityEnabled",
                                       "msDS-PasswordHistoryLength", "msDS-MinimumPasswordAge"]
    public static let domainAttributes = ["minPwdLength", "pwdProperties", "pwdHistoryLength", "minPwdAge"]
    public static let ppolicyAttributes = ["pwdMinLength", "pwdInHistory", "pwdMinAge", "pwdCheckQuality"]

    /// `pwdProperties` bit DOMAIN_PASSWORD_COMPLEX.
    static let complexBit: Int64 = 1
    /// Upper bound for lengths and counts read from the directory (AD allows 0–1024 history
    /// entries and up to 255 characters of minimum length; anything above is nonsense).
    static let maxCount = 1024

    /// An AD fine-grained policy (PSO). `historyOnReset`: whether the DC applies history to
    /// this daemon's resets (the policy-hints control is sent).
    public static func pso(dn: String, _ e: LDAPEntry, historyOnReset: Bool) -> DirectoryPasswordPolicy? {
        guard psoAttributes.contains(where: { !e.values($0).isEmpty }) else { return nil }
        return DirectoryPasswordPolicy(
            source: .pso(dn), minLength: count(e.string("msDS-MinimumPasswordLength")),
            complexity: e.string("msDS-PasswordComplexityEnabled")?.uppercased() == "TRUE",
            historyLength: count(e.string("msDS-PasswordHistoryLength")),
            minAge: interval(e.string("msDS-MinimumPasswordAge")),
            minAgeOnReset: false, historyOnReset: historyOnReset)
    }

    /// The AD domain head's policy.
    public static func domain(_ e: LDAPEntry, historyOnReset: Bool) -> DirectoryPasswordPolicy? {
        guard domainAttributes.contains(where: { !e.values($0).isEmpty }) else { return nil }
        let properties = e.string("pwdProperties").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        return DirectoryPasswordPolicy(
            source: .domain, minLength: count(e.string("minPwdLength")),
            complexity: properties & complexBit != 0,
            historyLength: count(e.string("pwdHistoryLength")),
            minAge: interval(e.string("minPwdAge")),
            minAgeOnReset: false, historyOnReset: historyOnReset)
    }

    /// An OpenLDAP ppolicy entry. ppolicy checks `pwdMinLength` only when `pwdCheckQuality` is
    /// 1 or 2, so with quality checking off the minimum length is no rule. The service account
    /// has `write`, not `manage`, so ppolicy applies age and history to its resets too.
    public static func ppolicy(dn: String, _ e: LDAPEntry) -> DirectoryPasswordPolicy? {
        guard ppolicyAttributes.contains(where: { !e.values($0).isEmpty }) else { return nil }
        let quality = e.string("pwdCheckQuality").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        let seconds = e.string("pwdMinAge").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        return DirectoryPasswordPolicy(
            source: .ppolicy(dn), minLength: quality > 0 ? count(e.string("pwdMinLength")) : 0,
            complexity: false, historyLength: count(e.string("pwdInHistory")),
            minAge: TimeInterval(max(0, min(seconds, 10 * 365 * 86_400))),
            minAgeOnReset: true, historyOnReset: true)
    }

    /// A non-negative count, capped; 0 for anything that is not a number.
    static func count(_ raw: String?) -> Int {
        guard let raw, let n = Int(raw.trimmingCharacters(in: .whitespaces)), n > 0 else { return 0 }
        return min(n, maxCount)
    }

    /// An AD interval (negative 100-ns units, e.g. `-864000000000` for one day) in seconds;
    /// 0 for none, positive values, `-9223372036854775808` ("never") and junk.
    static func interval(_ raw: String?) -> TimeInterval {
        guard let raw, let ticks = Int64(raw.trimmingCharacters(in: .whitespaces)), ticks < 0, ticks != Int64.min else { return 0 }
        return min(TimeInterval(-ticks) / 10_000_000, 10 * 365 * 86_400)
    }
}
