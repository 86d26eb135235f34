import Foundation
import Logging
import TestSupport
import WritebackCore
@testable import LDAPDirectory

/// Shared pieces of the OpenLDAP integration tests: a service configured against a test
/// slapd, fresh random passwords, and a way to catch the typed `DirectoryError`.
enum OpenLDAPFixture {
    /// A service bound as the write-only account over StartTLS with the test CA.
    static func service(_ slapd: Slapd, uris: [String]? = nil, caFile: String? = nil, startTLS: Bool = true,
                        bindDN: String? = nil, passwordFile: String? = nil, bindMethod: BindMethod = .simple,
                        timeout: Double = 5, connections: Int = 2, alternateMail: String? = "mailLocalAddress",
                        baseDN: String? = nil, groupBaseDN: String? = nil) throws -> LDAPDirectoryService {
        var c = DirectoryConfig(flavor: .openldap, uris: uris ?? [slapd.uri], baseDN: baseDN ?? slapd.baseDN)
        c.groupBaseDN = groupBaseDN
        c.startTLS = startTLS
        c.caFile = caFile ?? slapd.caFile
        c.bindMethod = bindMethod
        if bindMethod == .simple {
            c.bindDN = bindDN ?? slapd.bindDN
            c.bindPasswordFile = passwordFile ?? slapd.bindPasswordFile
        }
        c.timeoutSeconds = timeout
        c.connections = connections
        c.alternateMailAttribute = alternateMail
        return try LDAPDirectoryService(config: c, logger: Logger(label: "test.openldap"))
    }

    /// A password generated now, long and mixed enough for any rule.
    static func newPassword() -> String { "Nw9-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16) }

    static func reset(_ pw: String, unlock: Bool = true, mustChange: Bool = false) -> PasswordWrite {
        PasswordWrite(kind: .reset, newPassword: Secret(pw), oldPassword: nil, unlock: unlock, mustChange: mustChange)
    }
}

/// The `DirectoryError` `body` throws, or nil when it succeeds.
func directoryError<T>(_ body: () async throws(DirectoryError) -> T) async -> DirectoryError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}
