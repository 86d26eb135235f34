import Foundation
import RequestCodec
import WritebackCore
import WritebackPolicy

/// Everything a reload may replace, built from one `Configuration` and swapped as one value:
/// a request is processed entirely with the keys and rules that were current when it started.
/// Building it opens every file the configuration names (keys, banned and breached lists), so
/// a configuration whose files are missing is refused at start and at reload alike.
public struct DaemonRuntime: Sendable {
    public let config: Configuration
    public let verifier: RequestVerifier
    public let opener: PasswordOpener
    /// `[policy]` itself: decides requests that no directory owns (`sspr_disabled` comes
    /// before `not_managed`).
    public let policy: PolicyEngine
    /// Each directory's rules, aligned with `config.directories`.
    public let policies: [PolicyEngine]
    /// Which directory a request's user belongs to.
    public let router: DirectoryRouter

    public init(config: Configuration) throws(RuntimeError) {
        self.config = config
        do { verifier = try RequestVerifier(keys: config.keys) } catch {
            throw .keys("keys.producer_public_keys", "\(error)")
        }
        do { opener = try PasswordOpener(privateKeyPath: config.keys.sealingPrivateKey) } catch {
            throw .keys("keys.sealing_private_key", "\(error)")
        }
        // Each list file is read once, however many directories name it.
        var bannedLists: [String: BannedPasswordList] = [:]
        var breachedLists: [String: BreachedPasswordList] = [:]
        func engine(_ policy: PolicyConfig, _ key: String) throws(RuntimeError) -> PolicyEngine {
            var banned = BannedPasswordList(terms: [])
            let bannedPath = policy.bannedPasswordsFile
            if !bannedPath.isEmpty {
                if let list = bannedLists[bannedPath] { banned = list } else {
                    guard let text = try? String(contentsOfFile: bannedPath, encoding: .utf8) else {
                        throw .file("\(key).banned_passwords_file", bannedPath)
                    }
                    let terms = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    banned = BannedPasswordList(terms: terms)
                    bannedLists[bannedPath] = banned
                }
            }
            var breached: BreachedPasswordList?
            let breachedPath = policy.breachedSHA1File
            if !breachedPath.isEmpty {
                if let list = breachedLists[breachedPath] { breached = list } else {
                    do { breached = try BreachedPasswordList(path: breachedPath) } catch {
                        throw .file("\(key).breached_sha1_file", breachedPath)
                    }
                    breachedLists[breachedPath] = breached
                }
            }
            return PolicyEngine(policy: policy, licenses: config.licenses, banned: banned, breached: breached)
        }
        policy = try engine(config.policy, "policy")
        var policies: [PolicyEngine] = []
        for d in config.directories {
            policies.append(d.policy == nil ? policy : try engine(config.policy(for: d), "directory[\(d.name)].policy"))
        }
        self.policies = policies
        router = DirectoryRouter(directories: config.directories)
    }
}

/// Why a configuration that parsed could still not be put to use.
public enum RuntimeError: Error, Sendable, CustomStringConvertible {
    /// A key file named by `key` could not be loaded.
    case keys(String, String)
    /// A file named by `key` could not be read.
    case file(String, String)

    public var description: String {
        switch self {
        case .keys(let key, let reason): "\(key): \(reason)"
        case .file(let key, let path): "\(key): cannot read \(path)"
        }
    }
}
