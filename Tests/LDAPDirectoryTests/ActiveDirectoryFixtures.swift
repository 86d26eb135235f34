import Foundation
import Logging
import Testing
import TestSupport
@testable import LDAPDirectory
import WritebackCore

/// What the AD integration tests share: the process's Samba DC, services configured against
/// it, and fresh users (every test makes its own, so tests run in parallel on one DC).
enum ADFixture {
    static func dc() async throws -> SambaDC { try await SambaDC.shared() }

    static func config(_ dc: SambaDC, bindDN: String? = nil, passwordFile: String? = nil,
                       base: String? = nil) -> DirectoryConfig {
        var c = DirectoryConfig(flavor: .activeDirectory, uris: [dc.uri], baseDN: base ?? dc.usersDN)
        c.caFile = dc.caFile
        c.bindDN = bindDN ?? dc.bindDN
        c.bindPasswordFile = passwordFile ?? dc.bindPasswordFile
        c.connections = 2
        c.timeoutSeconds = 10
        return c
    }

    /// The directory as the daemon sees it, bound as svc-writeback (or `bindDN`).
    static func service(_ dc: SambaDC, bindDN: String? = nil, passwordFile: String? = nil,
                        base: String? = nil) throws -> LDAPDirectoryService {
        try LDAPDirectoryService(config: config(dc, bindDN: bindDN, passwordFile: passwordFile, base: base),
                                 logger: Logger(label: "test.ad"))
    }

    /// A new enabled user with a known password, in OU=People.
    struct User {
        var sam: String
        var dn: String
        var password: String
    }

    static func user(_ dc: SambaDC, _ prefix: String, displayName: String? = nil, groups: [String] = []) throws -> User {
        let sam = SambaDC.uniqueName(prefix)
        let password = SambaDC.newPassword()
        let dn = try dc.createUser(sam: sam, password: password, displayName: displayName ?? "Test \(prefix)",
                                   mail: "\(sam)@example.test", otherMailbox: "\(sam)@home.example", groups: groups)
        return User(sam: sam, dn: dn, password: password)
    }

    static func reset(_ password: String, unlock: Bool = true, mustChange: Bool = false) -> PasswordWrite {
        PasswordWrite(kind: .reset, newPassword: Secret(password), oldPassword: nil, unlock: unlock, mustChange: mustChange)
    }

    static func change(old: String, new: String) -> PasswordWrite {
        PasswordWrite(kind: .change, newPassword: Secret(new), oldPassword: Secret(old), unlock: false, mustChange: false)
    }

    static let unlock = PasswordWrite(kind: .unlock, newPassword: nil, oldPassword: nil, unlock: true, mustChange: false)

    /// Runs `body` and returns the DirectoryError it threw (nil when it did not throw).
    static func error(_ body: () async throws -> Void) async -> DirectoryError? {
        do {
            try await body()
            return nil
        } catch let error as DirectoryError {
            return error
        } catch {
            Issue.record("not a DirectoryError: \(error)")
            return nil
        }
    }
}

extension DirectoryError {
    /// The case name, for comparisons that ignore the server's message.
    var kind: String { ActiveDirectoryEncodingTests.kind(self) }
}
