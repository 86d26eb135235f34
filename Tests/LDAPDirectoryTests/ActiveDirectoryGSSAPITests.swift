import Foundation
import Testing
import TestSupport
@testable import LDAPDirectory
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// The service account authenticating with its keytab (no kinit, no password file) over
/// plain `ldap://` with SASL sealing — what AD expects — against the Samba DC's own KDC.
@Suite("Active Directory GSSAPI bind (Samba AD DC)")
struct ActiveDirectoryGSSAPITests {
    @Test func keytabBindLooksUpAndResets() async throws {
        let dc = try await ADFixture.dc()
        // A private Kerberos configuration: realm EXAMPLE.TEST, KDC 127.0.0.1, no DNS.
        setenv("KRB5_CONFIG", dc.krb5Config, 1)
        var config = DirectoryConfig(flavor: .activeDirectory, uris: [dc.gssapiURI], baseDN: dc.usersDN)
        config.bindMethod = .gssapi
        config.keytab = dc.keytab
        config.connections = 1
        let svc = try LDAPDirectoryService(config: config, logger: .init(label: "test.ad.gssapi"))
        defer { Task { await svc.shutdown() } }

        let user = try ADFixture.user(dc, "gssapi")
        let started = ContinuousClock.now
        let found = try await svc.findUser(identity: user.sam, groupsOfInterest: [dc.protectedGroupDN])
        print("gssapi: first lookup (ticket from keytab + bind + search) \(ContinuousClock.now - started)")
        #expect(found.dn == user.dn)
        let new = SambaDC.newPassword()
        try await svc.apply(ADFixture.reset(new), to: found)
        #expect(dc.bind(dn: user.dn, password: new).succeeded)
        #expect(dc.bind(dn: user.dn, password: user.password).rc == 49)
    }
}
