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
    public let policy: PolicyEngine

    public init(config: Configuration) throws(RuntimeError) {
        self.config = config
        do { verifier = try RequestVerifier(keys: config.keys) } catch {
            throw .keys("keys.producer_public_keys", "\(error)")
        }
        do { opener = try PasswordOpener(privateKeyPath: config.keys.sealingPrivateKey) } catch {
            throw .keys("keys.sealing_private_key", "\(error)")
        }
        var terms: [String] = []
        if !config.policy.bannedPasswordsFile.isEmpty {
            guard let text = try? String(contentsOfFile: config.policy.bannedPasswordsFile, encoding: .utf8) else {
                throw .file("policy.banned_passwords_file", config.policy.bannedPasswordsFile)
            }
            terms = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var breached: BreachedPasswordList?
        if !config.policy.breachedSHA1File.isEmpty {
            do { breached = try BreachedPasswordList(path: config.policy.breachedSHA1File) } catch {
                throw .file("policy.breached_sha1_file", config.policy.breachedSHA1File)
            }
        }
        policy = PolicyEngine(policy: config.policy, licenses: config.licenses, banned: BannedPasswordList(terms: terms), breached: breached)
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
