import Foundation

/// The daemon's whole configuration, validated. `WritebackConfig` builds it from TOML; tests
/// build it directly. Defaults are the documented ones (config/writebackd.toml).
public struct Configuration: Sendable, Hashable {
    /// Every configured directory, in file order: one `[directory]` table, or the entries of
    /// `[[directory]]`. Never empty; a request goes to the one `DirectoryRouter` picks.
    public var directories: [DirectoryConfig]
    public var queue: QueueConfig
    public var keys: KeysConfig
    public var policy: PolicyConfig
    public var licenses: LicensesConfig
    public var outbox: OutboxConfig
    public var control: ControlConfig
    public var state: StateConfig
    /// `[audit]` (AuditConfig.swift); not an init parameter, so every existing caller keeps its default.
    public var audit = AuditConfig()
    /// The file this came from, for messages.
    public var sourcePath: String?

    public init(directory: DirectoryConfig, queue: QueueConfig, keys: KeysConfig, policy: PolicyConfig = .init(),
                licenses: LicensesConfig = .init(), outbox: OutboxConfig, control: ControlConfig = .init(),
                state: StateConfig, sourcePath: String? = nil) {
        self.init(directories: [directory], queue: queue, keys: keys, policy: policy, licenses: licenses,
                  outbox: outbox, control: control, state: state, sourcePath: sourcePath)
    }

    /// `directories` must not be empty.
    public init(directories: [DirectoryConfig], queue: QueueConfig, keys: KeysConfig, policy: PolicyConfig = .init(),
                licenses: LicensesConfig = .init(), outbox: OutboxConfig, control: ControlConfig = .init(),
                state: StateConfig, sourcePath: String? = nil) {
        precondition(!directories.isEmpty, "a configuration has at least one directory")
        self.directories = directories; self.queue = queue; self.keys = keys; self.policy = policy
        self.licenses = licenses; self.outbox = outbox; self.control = control; self.state = state
        self.sourcePath = sourcePath
    }

    /// The first directory: the only one of a single `[directory]` table. Code that serves
    /// several directories uses `directories`; this stays for the single-directory callers
    /// (`check-password`, benchmarks, tests).
    public var directory: DirectoryConfig {
        get { directories[0] }
        set { directories[0] = newValue }
    }

    /// The password and eligibility rules that apply to `directory`'s users: its own
    /// `[directory.policy]` merged over `[policy]`, or `[policy]` itself.
    public func policy(for directory: DirectoryConfig) -> PolicyConfig { directory.policy ?? policy }
}

public enum DirectoryFlavor: String, Sendable, Hashable, CaseIterable { case activeDirectory = "active-directory", openldap }
public enum BindMethod: String, Sendable, Hashable, CaseIterable { case simple, external, gssapi }

/// `[directory]`, or one entry of `[[directory]]`.
public struct DirectoryConfig: Sendable, Hashable {
    /// Names the directory in `status`, metrics, logs and `doctor`; "default" for a single
    /// `[directory]` table without one.
    public var name: String = "default"
    /// The user suffixes (`@contoso.com`) and NetBIOS prefixes (`CONTOSO\`) it owns. Empty
    /// with a single directory: every user is its user.
    public var routes: [DirectoryRoute] = []
    /// Bare user names (no `@domain`, no `DOMAIN\`) go to the directory marked default.
    public var isDefault: Bool = false
    /// `CONTOSO\alice` is looked up as `alice` (default true: sAMAccountName / uid hold the
    /// bare name).
    public var stripPrefix: Bool = true
    /// `alice@contoso.com` is looked up as `alice` (default false: a UPN or mail address is
    /// matched whole against userPrincipalName / mail).
    public var stripSuffix: Bool = false
    /// This directory's effective rules (`[directory.policy]` merged over `[policy]`); nil:
    /// `[policy]` applies unchanged. Read through `Configuration.policy(for:)`.
    public var policy: PolicyConfig? = nil
    public var flavor: DirectoryFlavor
    /// Tried in order; the first that answers is used, the others are fail-over.
    public var uris: [String]
    public var startTLS: Bool = false
    public var caFile: String? = nil
    public var baseDN: String
    /// AD default `(&(objectClass=user)(objectCategory=person))`, OpenLDAP `(objectClass=inetOrgPerson)`.
    public var userFilter: String
    /// AD default sAMAccountName, userPrincipalName, mail; OpenLDAP uid, mail.
    public var identityAttributes: [String]
    public var bindMethod: BindMethod = .simple
    public var bindDN: String? = nil
    public var bindPasswordFile: String? = nil
    public var keytab: String? = nil
    public var connections: Int = 4
    public var timeoutSeconds: Double = 10
    public var alternateMailAttribute: String? = nil
    public var allowPlainLoopback: Bool = false
    /// An ordinary user entry `writebackctl doctor` may read (and no-op modify) to prove the
    /// service account's rights; nil: doctor checks rights on the first user it finds.
    public var doctorTestUser: String? = nil
    /// Where OpenLDAP groups are searched for `sspr_groups` / `protected_groups` (nested
    /// membership); nil: the naming context (RootDSE `namingContexts`) that holds `baseDN`, so
    /// groups in `ou=groups` are found when users live in `ou=people`.
    public var groupBaseDN: String? = nil

    public init(flavor: DirectoryFlavor, uris: [String], baseDN: String, userFilter: String? = nil, identityAttributes: [String]? = nil) {
        self.flavor = flavor; self.uris = uris; self.baseDN = baseDN
        self.userFilter = userFilter ?? (flavor == .activeDirectory ? "(&(objectClass=user)(objectCategory=person))" : "(objectClass=inetOrgPerson)")
        self.identityAttributes = identityAttributes ?? (flavor == .activeDirectory ? ["sAMAccountName", "userPrincipalName", "mail"] : ["uid", "mail"])
    }
}

public enum QueueBackend: String, Sendable, Hashable, CaseIterable { case sqlite, postgres }

/// `[queue]`
public struct QueueConfig: Sendable, Hashable {
    public var backend: QueueBackend = .sqlite
    public var path: String? = "/var/lib/writebackd/queue.sqlite"
    public var url: String? = nil
    /// PostgreSQL: the LISTEN/NOTIFY channel a plain INSERT notifies (schema trigger); "": poll only.
    public var notifyChannel: String = "writebackd"
    /// SQLite: wake on changes of the queue file (inotify); false: the poll interval alone.
    public var watchFile: Bool = true
    public var pollIntervalMs: Int = 500
    public var leaseSeconds: Int = 60
    public var maxAttempts: Int = 5
    /// Terminal rows older than this are deleted (replay ids live on in the state store).
    public var retentionDays: Int = 30
    public init(path: String? = nil) { if let path { self.path = path } }
}

/// `[keys]`
public struct KeysConfig: Sendable, Hashable {
    public var producerPublicKeys: [String]
    public var sealingPrivateKey: String
    public var sealingPublicKey: String
    public init(producerPublicKeys: [String], sealingPrivateKey: String, sealingPublicKey: String) {
        self.producerPublicKeys = producerPublicKeys; self.sealingPrivateKey = sealingPrivateKey; self.sealingPublicKey = sealingPublicKey
    }
}

public enum SSPRScope: String, Sendable, Hashable, CaseIterable { case all, selected, none }

/// `[policy]`
public struct PolicyConfig: Sendable, Hashable {
    public var ssprScope: SSPRScope = .all
    public var ssprGroups: [String] = []
    public var methodsRequired: Int = 1
    public var allowedMethods: [String] = ["email", "mobile_phone", "office_phone", "authenticator_app", "authenticator_code", "security_questions"]
    public var reconfirmDays: Int = 180
    public var allowUnlockWithoutReset: Bool = true
    public var protectedGroups: [String] = []
    public var minLength: Int = 8
    public var maxLength: Int = 256
    public var complexity: Bool = true
    public var historyCount: Int = 24
    public var minAgeHours: Double = 0
    public var bannedPasswordsFile: String = ""
    public var breachedSHA1File: String = ""
    public var throttlePerHour: Int = 5
    public init() {}
}

/// `[licenses]`
public struct LicensesConfig: Sendable, Hashable {
    public var enforce: Bool = true
    public var eligible: [String] = ["AAD_PREMIUM", "AAD_PREMIUM_P2", "EMS", "EMSPREMIUM", "SPE_E3", "SPE_E5", "SPB"]
    public init() {}
}

/// `[outbox]`
public struct OutboxConfig: Sendable, Hashable {
    public var dir: String
    public var from: String = "IT Service Desk <noreply@example.org>"
    public var organization: String = "Example Org"
    public var adminNotify: [String] = []
    /// e.g. "/usr/sbin/sendmail -t -i"; empty: outbox only.
    public var sendmail: String = ""
    /// A directory of templates that override the built-in ones; empty: built-in only.
    public var templatesDir: String = ""
    public init(dir: String) { self.dir = dir }
}

/// `[control]`
public struct ControlConfig: Sendable, Hashable {
    public var socket: String = "/run/writebackd/control.sock"
    /// Members may read; "" makes the socket owner-only (0600).
    public var group: String = "writebackd"
    /// Members may pause, resume, reload; "" means root only.
    public var adminGroup: String = ""
    /// Optional Prometheus endpoint on a loopback address, e.g. "127.0.0.1:9469"; "" disables.
    public var metricsListen: String = ""
    public init() {}

    /// `metricsListen` split into host and port ("127.0.0.1:9469", "[::1]:9469"); nil when
    /// empty or not host:port. The brackets of an IPv6 host are removed.
    public var metricsEndpoint: (host: String, port: Int)? { Self.hostPort(metricsListen) }

    public static func hostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return (host, port)
    }
}

/// `[state]`
public struct StateConfig: Sendable, Hashable {
    public var path: String? = "/var/lib/writebackd/state.sqlite"
    public var url: String? = nil
    public init(path: String? = nil) { if let path { self.path = path } }
}
