import Foundation
import RequestCodec
import Testing
import TestSupport
import WritebackDaemon

/// `writebackctl doctor` against a real Samba AD DC: the delegated service account passes
/// (TLS with the test CA, bind, read, `allowedAttributesEffective` lists lockoutTime and
/// pwdLastSet); the read-only account is caught by the rights check; a wrong CA by the TLS check.
@Suite("doctor on Active Directory", .serialized)
struct DoctorActiveDirectoryTests {
    static func write(_ dc: SambaDC, dir: String, bindDN: String? = nil, passwordFile: String? = nil, caFile: String? = nil) throws -> String {
        try PEMKeys.generate(into: dir + "/keys")
        let path = dir + "/writebackd.toml"
        try """
        [directory]
        flavor = "active-directory"
        uri = ["\(dc.uri)"]
        ca_file = "\(caFile ?? dc.caFile)"
        base_dn = "\(dc.usersDN)"
        bind_dn = "\(bindDN ?? dc.bindDN)"
        bind_password_file = "\(passwordFile ?? dc.bindPasswordFile)"
        timeout_seconds = 5
        doctor_test_user = "paul.plain"

        \(localConfigSections(dir: dir))
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the delegated service account passes every check")
    func healthy() async throws {
        let dc = try await SambaDC.shared()
        let dir = try Slapd.makeTempDir(prefix: "doctor-ad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let report = await Doctor(configPath: try Self.write(dc, dir: dir)).run()
        #expect(report.ok, "\(report.text())")
        let write = report.checks.first { $0.name == "directory rights write" }
        #expect(write?.ok == true && write?.detail.contains("lockoutTime, pwdLastSet") == true, "\(report.text())")
    }

    @Test("a read-only service account fails the rights check with the delegation to add")
    func readOnly() async throws {
        let dc = try await SambaDC.shared()
        let dir = try Slapd.makeTempDir(prefix: "doctor-ad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let report = await Doctor(configPath: try Self.write(dc, dir: dir, bindDN: dc.readonlyDN, passwordFile: dc.readonlyPasswordFile)).run()
        #expect(report.checks.first { $0.name.hasSuffix(" bind") }?.ok == true, "\(report.text())")
        let write = try #require(report.checks.first { $0.name == "directory rights write" })
        #expect(!write.ok && write.detail.contains("may not write lockoutTime, pwdLastSet"), "\(write)")
        #expect(write.fix?.contains("Reset password") == true)
    }

    @Test("a wrong CA fails the TLS check")
    func wrongCA() async throws {
        let dc = try await SambaDC.shared()
        let dir = try Slapd.makeTempDir(prefix: "doctor-ad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let report = await Doctor(configPath: try Self.write(dc, dir: dir, caFile: dc.wrongCAFile)).run()
        let tls = try #require(report.checks.first { $0.name.hasSuffix(" tls") })
        #expect(!tls.ok && tls.fix?.contains("ca_file") == true, "\(tls)")
    }
}
