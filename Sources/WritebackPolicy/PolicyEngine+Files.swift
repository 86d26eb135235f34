import WritebackCore

extension PolicyEngine {
    /// Why the engine's files could not be loaded; each case names the configuration key.
    public enum LoadError: Error, Sendable, Hashable, CustomStringConvertible {
        case bannedPasswordsFile(BannedPasswordList.LoadError)
        case breachedSHA1File(BreachedPasswordList.LoadError)
        public var description: String {
            switch self {
            case .bannedPasswordsFile(let e): "policy.\(e)"
            case .breachedSHA1File(let e): "policy.\(e)"
            }
        }
    }

    /// The engine for a configuration, with `banned_passwords_file` (plus the global list) and
    /// `breached_sha1_file` loaded when set. The one place the daemon and `check-password`
    /// build it, so both judge a password the same way.
    public static func load(policy: PolicyConfig, licenses: LicensesConfig) throws(LoadError) -> PolicyEngine {
        var banned = BannedPasswordList(terms: [])
        if !policy.bannedPasswordsFile.isEmpty {
            do { banned = try BannedPasswordList(contentsOfFile: policy.bannedPasswordsFile) } catch { throw .bannedPasswordsFile(error) }
        }
        var breached: BreachedPasswordList?
        if !policy.breachedSHA1File.isEmpty {
            do { breached = try BreachedPasswordList(path: policy.breachedSHA1File) } catch { throw .breachedSHA1File(error) }
        }
        return PolicyEngine(policy: policy, licenses: licenses, banned: banned, breached: breached)
    }
}
