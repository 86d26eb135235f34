import TOMLKit
import WritebackCore

/// `[policy]` and `[licenses]`: who may reset, how well they must be verified, and the password
/// rules the daemon enforces on top of the directory's own.
enum PolicySection {
    static let keys = ["sspr_scope", "sspr_groups", "methods_required", "allowed_methods", "reconfirm_days",
                       "allow_unlock_without_reset", "protected_groups", "min_length", "max_length", "complexity",
                       "history_count", "min_age_hours", "banned_passwords_file", "breached_sha1_file", "throttle_per_hour"]

    /// The verification methods a portal may report (Entra's names).
    static let knownMethods = ["email", "mobile_phone", "office_phone", "authenticator_app",
                               "authenticator_code", "security_questions"]

    /// Reads `[policy]` over the defaults. With several directories (`groupsPerDirectory`),
    /// group DNs belong in each `[directory.policy]`: one tree's DNs mean nothing in another,
    /// and a protected group that silently never matches would unprotect its members.
    static func read(_ table: TOMLTable, _ context: ParseContext, groupsPerDirectory: Bool = false) throws(ConfigError) -> PolicyConfig {
        let r = try TableReader(table, section: "policy", known: keys, context: context)
        if groupsPerDirectory {
            for key in ["sspr_groups", "protected_groups"] where r.has(key) {
                throw r.invalid(key, "with several [[directory]] entries, group DNs belong to one directory: set \(key) in that entry's [directory.policy]")
            }
            // Whether "selected" has groups is decided per directory.
            return try read(r, over: PolicyConfig(), checkScope: false)
        }
        return try read(r, over: PolicyConfig(), checkScope: true)
    }

    /// `[directory.policy]`: the rules that differ from `policy` (already read from `[policy]`).
    static func read(_ table: TOMLTable, _ context: ParseContext, section: String, locatorSection: String,
                     over policy: PolicyConfig) throws(ConfigError) -> PolicyConfig {
        let r = try TableReader(table, section: section, locatorSection: locatorSection, known: keys, context: context)
        return try read(r, over: policy, checkScope: true)
    }

    /// The keys `r` has, over `base`; then the rules that tie keys together.
    static func read(_ r: TableReader, over base: PolicyConfig, checkScope: Bool) throws(ConfigError) -> PolicyConfig {
        var p = base
        p.ssprScope = try r.choice("sspr_scope", SSPRScope.self) ?? p.ssprScope
        p.ssprGroups = try r.strings("sspr_groups") ?? p.ssprGroups
        for g in p.ssprGroups { try DirectorySection.checkDN(g, "sspr_groups", r) }
        if checkScope && p.ssprScope == .selected && p.ssprGroups.isEmpty {
            throw r.has("sspr_groups") ? r.invalid("sspr_groups", "sspr_scope = \"selected\" needs at least one group DN")
                                       : r.invalid("sspr_scope", "\"selected\" needs sspr_groups (group DNs)")
        }
        p.methodsRequired = try r.int("methods_required", in: 1...2) ?? p.methodsRequired
        if let methods = try r.strings("allowed_methods") {
            guard !methods.isEmpty else { throw r.invalid("allowed_methods", "give at least one method") }
            for m in methods where !knownMethods.contains(m) {
                throw r.invalid("allowed_methods", "\"\(m)\" is not a method; known: \(knownMethods.joined(separator: ", "))")
            }
            guard Set(methods).count == methods.count else { throw r.invalid("allowed_methods", "a method is listed twice") }
            p.allowedMethods = methods
        }
        if p.methodsRequired > p.allowedMethods.count {
            throw r.invalid("methods_required", "\(p.methodsRequired) methods required but only \(p.allowedMethods.count) allowed")
        }
        p.reconfirmDays = try r.int("reconfirm_days", in: 0...730, unit: "days") ?? p.reconfirmDays
        p.allowUnlockWithoutReset = try r.bool("allow_unlock_without_reset") ?? p.allowUnlockWithoutReset
        p.protectedGroups = try r.strings("protected_groups") ?? p.protectedGroups
        for g in p.protectedGroups { try DirectorySection.checkDN(g, "protected_groups", r) }
        p.minLength = try r.int("min_length", in: 1...256, unit: "characters") ?? p.minLength
        p.maxLength = try r.int("max_length", in: 1...256, unit: "characters (AD's unicodePwd limit)") ?? p.maxLength
        if p.minLength > p.maxLength {
            throw r.invalid(r.has("min_length") ? "min_length" : "max_length",
                            "min_length (\(p.minLength)) must not exceed max_length (\(p.maxLength))")
        }
        p.complexity = try r.bool("complexity") ?? p.complexity
        p.historyCount = try r.int("history_count", in: 0...100, unit: "passwords") ?? p.historyCount
        if let h = try r.number("min_age_hours") {
            guard h >= 0, h <= 24 * 365 else { throw r.invalid("min_age_hours", "\(h) is out of range: must be 0…8760 hours") }
            p.minAgeHours = h
        }
        p.bannedPasswordsFile = try r.path("banned_passwords_file", allowEmpty: true) ?? p.bannedPasswordsFile
        p.breachedSHA1File = try r.path("breached_sha1_file", allowEmpty: true) ?? p.breachedSHA1File
        p.throttlePerHour = try r.int("throttle_per_hour", in: 1...1000, unit: "resets per user per hour") ?? p.throttlePerHour
        return p
    }
}

enum LicensesSection {
    static let keys = ["enforce", "eligible"]

    static func read(_ table: TOMLTable, _ context: ParseContext) throws(ConfigError) -> LicensesConfig {
        let r = try TableReader(table, section: "licenses", known: keys, context: context)
        var l = LicensesConfig()
        l.enforce = try r.bool("enforce") ?? l.enforce
        if let eligible = try r.strings("eligible") {
            for sku in eligible where sku.isEmpty || sku.contains(where: { $0 == " " || $0 == "," }) {
                throw r.invalid("eligible", "\"\(sku)\" is not a SKU part number (no spaces or commas)")
            }
            l.eligible = eligible
        }
        if l.enforce && l.eligible.isEmpty {
            throw r.invalid("eligible", "empty while enforce = true: nobody could reset; list SKUs or set enforce = false")
        }
        return l
    }
}
