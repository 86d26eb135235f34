import ArgumentParser
import Foundation
import LDAPDirectory
import Logging
import RequestQueue
import WritebackConfig
import WritebackCore
import WritebackPolicy

/// `writebackctl check-password`: the policy verdict for one password, for portals that give
/// feedback before they enqueue (DESIGN.md "Commands"). Reads the password on stdin (one
/// trailing newline dropped), looks the user up to know their names, password age and
/// OpenLDAP `pwdHistory`, reads the user's effective policy from the directory (AD: the
/// resultant PSO, else the domain; OpenLDAP: `pwdPolicySubentry`, else the default policy)
/// and judges with the stricter of it and `[policy]`, as the daemon does; checks the daemon's
/// own history hashes when the state store is readable, and prints every failing rule and the
/// policy it used. Writes nothing anywhere.
/// Exit 0: passes; 1: a rule failed; 2: any other error.
struct CheckPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-password",
        abstract: "Check a password (read on stdin) against the policy, without writing anything.",
        discussion: """
            Exit status: 0 the password passes, 1 a rule failed, 2 any other error.
            If the directory cannot be reached, the check continues with the given ID as the
            account name (no display name, age or directory history) and says so on stderr.
            """)

    @Option(name: .long, help: "Configuration file.")
    var config: String = ConfigLoader.defaultPath
    @Option(name: .long, help: "The user, as the portal knows them (matched against identity attributes).")
    var user: String?
    @Option(name: .long, help: "Language of the rule messages (BCP 47: en, zh-CN, zh-TW, ...).")
    var locale: String?
    @Option(name: .long, help: "Judge as this kind of request: reset (default) or change (the user's own; the directory's minimum age applies).")
    var kind: String = "reset"
    @Flag(name: .long, help: "Print {\"ok\": bool, \"failed\": [rules in order], \"policy\": {min_length, complexity, history, min_age_hours, source}}.")
    var json = false

    func run() async throws {
        guard let user, !user.isEmpty else { fail("--user ID is required") }
        guard let requestKind = RequestKind(rawValue: kind), requestKind != .unlock else { fail("--kind must be reset or change") }
        let loaded: Configuration
        do { loaded = try ConfigLoader.load(path: config) } catch { fail("\(error)") }
        // Several directories: the one that owns the user, with its rules.
        let configuration: Configuration, lookup: String
        switch loaded.routed(user: user) {
        case .failure(let error): fail("\"\(user)\": not managed: \(error.reason)")
        case .success(let routed): (configuration, lookup) = routed
        }
        let engine: PolicyEngine
        do { engine = try PolicyEngine.load(policy: configuration.policy, licenses: configuration.licenses) } catch { fail("\(error)") }

        var input = StdinPasswords.readAll()
        let password = Secret(bytes: StdinPasswords.dropOneNewline(input[...]))
        for i in input.indices { input[i] = 0 }
        guard password.unsafeString() != nil else { fail("the password on standard input is not valid UTF-8") }

        let (account, found, directoryPolicy) = await lookUp(lookup, configuration: configuration)
        let effective = EffectivePolicy(config: configuration.policy, directory: directoryPolicy, kind: requestKind)
        let inHistory = await historyVerdict(password, user: account, found: found, keep: effective.historyCount,
                                             directoryHistory: effective.history, configuration: configuration)
        let failed = engine.with(effective).passwordViolations(password, user: account, inHistory: inHistory, now: Date())
        report(failed, policy: effective.applied(to: configuration.policy), effective: effective)
        if !failed.isEmpty { throw ExitCode(1) }
    }

    /// The user's directory facts and effective policy, or a stand-in with the ID as account
    /// name (and `[policy]` alone) when the directory cannot answer. `found` says which.
    private func lookUp(_ id: String, configuration: Configuration) async -> (DirectoryUser, Bool, DirectoryPasswordPolicy?) {
        let fallback = DirectoryUser(dn: "", accountName: id)
        var logger = Logger(label: "writebackctl.check-password")
        logger.logLevel = .error
        let directory: LDAPDirectoryService
        do { directory = try LDAPDirectoryService(config: configuration.directory, logger: logger) } catch {
            note("directory not usable (\(error)); checking with account name \"\(id)\" only")
            return (fallback, false, nil)
        }
        do {
            let found = try await directory.findUser(identity: id, groupsOfInterest: [])
            var policy: DirectoryPasswordPolicy?
            do { policy = try await directory.effectivePolicy(for: found) } catch {
                note("the directory's password policy could not be read (\(error)); checking with [policy] only")
            }
            await directory.shutdown()
            return (found, true, policy)
        } catch {
            await directory.shutdown()
            switch error {
            case .notFound: fail("no user matches \"\(id)\" under \(configuration.directory.baseDN)")
            case .ambiguous(let n): fail("\"\(id)\" matches \(n) entries; use a unique identity")
            default:
                note("directory unreachable (\(error)); checking with account name \"\(id)\" only")
                return (fallback, false, nil)
            }
        }
    }

    /// OpenLDAP `pwdHistory` from the entry, and the daemon's own hashes when the state store
    /// exists and is readable by this user (it is mode 0600: normally root or the daemon).
    private func historyVerdict(_ password: Secret, user: DirectoryUser, found: Bool, keep: Int, directoryHistory: Int,
                                configuration: Configuration) async -> Bool {
        guard found else { return false }
        if directoryHistory > 0, PasswordHistoryEntry.contains(password, in: user.passwordHistory) { return true }
        guard keep > 0 else { return false }
        guard let path = configuration.state.path, FileManager.default.isReadableFile(atPath: path) else {
            note("state store \(configuration.state.path ?? "(none)") missing or not readable by this user; the daemon's own password history was not checked")
            return false
        }
        do {
            let store = try SQLiteStateStore(path: path)
            let record = try await store.history(userDN: user.dn)
            // One scrypt derivation (≈ 0.1 s); a one-shot command may block for that long.
            let kept = record.map { PasswordHistoryRecord(salt: $0.salt, hashes: Array($0.hashes.prefix(keep))) }
            return try PasswordHistoryHasher().isInHistory(password: password, record: kept)
        } catch {
            note("state store \(path): \(error); the daemon's own password history was not checked")
            return false
        }
    }

    private func report(_ failed: [PasswordRule], policy: PolicyConfig, effective e: EffectivePolicy) {
        if json {
            let names = failed.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            let hours = e.minAgeHours == e.minAgeHours.rounded() ? String(Int(e.minAgeHours)) : String(e.minAgeHours)
            let policyJSON = "{\"min_length\": \(e.minLength), \"complexity\": \(e.complexity), \"history\": \(e.history), "
                + "\"min_age_hours\": \(hours), \"source\": \(Self.quoted(e.source))}"
            print("{\"ok\": \(failed.isEmpty), \"failed\": [\(names)], \"policy\": \(policyJSON)}")
            return
        }
        print("policy (\(e.source)): at least \(e.minLength) characters, complexity \(e.complexity ? "on" : "off"), "
              + "history \(e.history), minimum age \(e.minAgeHours) h")
        if failed.isEmpty {
            print("ok: the password meets the policy")
            return
        }
        print("refused: \(failed.count) rule\(failed.count == 1 ? "" : "s") failed")
        for (rule, text) in zip(failed, UserMessages.messages(for: failed, locale: locale, policy: policy)) {
            print("  \(rule.rawValue): \(text)")
        }
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(text)).flatMap { String(data: $0, encoding: .utf8) } ?? "\"\""
    }

    private func note(_ message: String) {
        FileHandle.standardError.write(Data("writebackctl check-password: \(message)\n".utf8))
    }

    private func fail(_ message: String) -> Never {
        note(message)
        Foundation.exit(2)
    }
}
