import Foundation
import Logging
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// What each directory kind (OpenLDAP, Active Directory) implements on top of the shared
/// `LDAPPool`. The service owns the pool and health; a flavour knows its directory's
/// attributes, operations and error dialect.
protocol DirectoryFlavorOperations: Sendable {
    func findUser(identity: String, groupsOfInterest: [String]) async throws(DirectoryError) -> DirectoryUser
    func apply(_ write: PasswordWrite, to user: DirectoryUser) async throws(DirectoryError)
    func readBack(user: DirectoryUser, intentStamp: String?, newPassword: Secret?) async throws(DirectoryError) -> ReadbackVerdict
    func clearCaches()
    func effectivePolicy(for user: DirectoryUser) async throws(DirectoryError) -> DirectoryPasswordPolicy?
}

/// Why a `[directory]` configuration cannot be used. Refused at start, before any connection.
public enum LDAPDirectoryConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    case noURI
    case unsupportedURI(String)
    /// Simple binds would travel in clear: no TLS, not ldapi, not (allowed) loopback.
    case plainLDAPRefused(String)
    case missingBindDN
    case missingPasswordFile
    case passwordFileUnreadable(String)
    case missingKeytab

    public var description: String {
        switch self {
        case .noURI: "[directory] uri: at least one URI is required"
        case .unsupportedURI(let u): "[directory] uri: \(u) is not ldap://, ldaps:// or ldapi://"
        case .plainLDAPRefused(let u): "[directory] uri: \(u) is plain LDAP; use ldaps://, start_tls = true or ldapi://, or set allow_plain_loopback = true for a loopback URI"
        case .missingBindDN: "[directory] bind_dn is required for bind_method = \"simple\""
        case .missingPasswordFile: "[directory] bind_password_file is required for bind_method = \"simple\""
        case .passwordFileUnreadable(let p): "[directory] bind_password_file: cannot read \(p)"
        case .missingKeytab: "[directory] keytab is required for bind_method = \"gssapi\""
        }
    }
}

/// The directory as writebackd uses it: a pool of libldap connections on their own threads,
/// with fail-over across `uri`s, and the flavour (`openldap` or `active-directory`) that
/// speaks the directory's dialect. Exists as the single entry point the daemon, `doctor` and
/// the benchmark use; nothing outside this module sees LDAP types.
public final class LDAPDirectoryService: PasswordDirectory {
    public let config: DirectoryConfig
    public let pool: LDAPPool
    private let flavor: any DirectoryFlavorOperations

    public init(config: DirectoryConfig, logger: Logger) throws {
        signal(SIGPIPE, SIG_IGN)   // libldap writes to sockets a server may have closed
        self.config = config
        let settings = try Self.settings(for: config)
        pool = LDAPPool(settings: settings, connections: config.connections)
        switch config.flavor {
        case .openldap: flavor = OpenLDAPFlavor(config: config, pool: pool, logger: logger)
        case .activeDirectory: flavor = ActiveDirectoryFlavor(config: config, pool: pool, logger: logger)
        }
    }

    public func findUser(identity: String, groupsOfInterest: [String]) async throws(DirectoryError) -> DirectoryUser {
        try await flavor.findUser(identity: identity, groupsOfInterest: groupsOfInterest)
    }

    public func apply(_ write: PasswordWrite, to user: DirectoryUser) async throws(DirectoryError) {
        try await flavor.apply(write, to: user)
    }

    public func readBack(user: DirectoryUser, intentStamp: String?, newPassword: Secret?) async throws(DirectoryError) -> ReadbackVerdict {
        try await flavor.readBack(user: user, intentStamp: intentStamp, newPassword: newPassword)
    }

    public func health() async -> [EndpointHealth] { pool.health() }

    public func taskExecutor(forWorker worker: Int) -> (any TaskExecutor)? { pool.taskExecutor(forWorker: worker) }

    public func clearCaches() { flavor.clearCaches() }

    public func effectivePolicy(for user: DirectoryUser) async throws(DirectoryError) -> DirectoryPasswordPolicy? {
        try await flavor.effectivePolicy(for: user)
    }

    public func shutdown() async { await pool.shutdown() }

    /// Validates `config` (URIs, encryption, credentials) and reads the bind password.
    public static func settings(for config: DirectoryConfig) throws(LDAPDirectoryConfigError) -> ConnectionSettings {
        guard !config.uris.isEmpty else { throw .noURI }
        for uri in config.uris {
            let lower = uri.lowercased()
            if lower.hasPrefix("ldaps://") || lower.hasPrefix("ldapi://") { continue }
            guard lower.hasPrefix("ldap://") else { throw .unsupportedURI(uri) }
            if config.startTLS || config.bindMethod == .gssapi { continue }   // TLS, or SASL sealing
            guard config.allowPlainLoopback, isLoopback(uri) else { throw .plainLDAPRefused(uri) }
        }
        let bind: LDAPBind
        switch config.bindMethod {
        case .simple:
            guard let dn = config.bindDN, !dn.isEmpty else { throw .missingBindDN }
            guard let file = config.bindPasswordFile, !file.isEmpty else { throw .missingPasswordFile }
            bind = .simple(dn: dn, password: try readPasswordFile(file))
        case .external:
            bind = .external
        case .gssapi:
            guard let keytab = config.keytab, !keytab.isEmpty else { throw .missingKeytab }
            setenv("KRB5_CLIENT_KTNAME", keytab, 1)
            setenv("KRB5CCNAME", "MEMORY:writebackd", 1)
            bind = .gssapi
        }
        return ConnectionSettings(uris: config.uris, startTLS: config.startTLS, caFile: config.caFile,
                                  bind: bind, timeout: config.timeoutSeconds)
    }

    /// The file's bytes minus exactly one trailing `\n` or `\r\n`.
    public static func readPasswordFile(_ path: String) throws(LDAPDirectoryConfigError) -> Secret {
        guard var bytes = FileManager.default.contents(atPath: path).map({ [UInt8]($0) }) else { throw .passwordFileUnreadable(path) }
        defer { for i in bytes.indices { bytes[i] = 0 } }
        var n = bytes.count
        if n >= 2, bytes[n - 2] == 0x0D, bytes[n - 1] == 0x0A { n -= 2 } else if n >= 1, bytes[n - 1] == 0x0A { n -= 1 }
        return Secret(bytes: bytes[0..<n])
    }

    /// Whether an `ldap://` URI names a loopback host.
    public static func isLoopback(_ uri: String) -> Bool {
        guard let comps = URLComponents(string: uri), let host = comps.host?.lowercased() else { return false }
        let h = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if h == "localhost" || h == "::1" { return true }
        var addr = in_addr()
        guard inet_pton(AF_INET, h, &addr) == 1 else { return false }
        return UInt32(bigEndian: addr.s_addr) >> 24 == 127
    }
}
