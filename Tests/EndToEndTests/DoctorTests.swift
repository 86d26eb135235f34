import Foundation
import RequestCodec
import Testing
import TestSupport
import WritebackDaemon
#if canImport(Glibc)
import Glibc
#endif

/// `writebackctl doctor` against a real slapd: a good setup passes every check, and each
/// failure doctor claims to detect is produced for real (wrong CA, wrong bind password, a
/// service account without write rights, an unreachable URI, a private key with mode 0644)
/// and named with its fix.
@Suite("doctor", .serialized)
struct DoctorTests {
    /// A config for `slapd` in a fresh directory with fresh keys; `edit` changes the [directory] lines.
    struct Setup {
        let dir: String
        let slapd: Slapd
        var configPath: String { dir + "/writebackd.toml" }

        init(_ slapd: Slapd) throws {
            self.slapd = slapd
            dir = try Slapd.makeTempDir(prefix: "doctor")
            try PEMKeys.generate(into: dir + "/keys")
        }

        func write(uri: String? = nil, caFile: String? = nil, bindDN: String? = nil, passwordFile: String? = nil,
                   extra: String = "", baseDN: String? = nil, policy: String = "") throws {
            let text = """
            [directory]
            flavor = "openldap"
            uri = ["\(uri ?? slapd.uri)"]
            start_tls = true
            ca_file = "\(caFile ?? slapd.caFile)"
            base_dn = "\(baseDN ?? slapd.baseDN)"
            bind_dn = "\(bindDN ?? slapd.bindDN)"
            bind_password_file = "\(passwordFile ?? slapd.bindPasswordFile)"
            timeout_seconds = 3
            doctor_test_user = "alice"
            \(extra)

            \(policy.isEmpty ? "" : "[policy]\n" + policy)

            \(localConfigSections(dir: dir))
            """
            try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        }

        func run() async -> DoctorReport { await Doctor(configPath: configPath).run() }
        func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
    }

    static func check(_ report: DoctorReport, _ nameSuffix: String) -> DoctorCheck? {
        report.checks.first { $0.name.hasSuffix(nameSuffix) || $0.name == nameSuffix }
    }

    @Test("a good setup passes every check, and the service account's rights are proven")
    func healthy() async throws {
        try await withSlapd { slapd in
            let s = try Setup(slapd); defer { s.cleanup() }
            try s.write()
            let report = await s.run()
            #expect(report.ok, "\(report.text())")
            for name in ["config", "keys.producer_public_keys[0]", "keys.sealing_private_key", "keys.sealing_public_key",
                         "directory.bind_password_file", "directory.ca_file", "queue", "state", "outbox", "control.socket",
                         "reachable", "tls", "bind", "directory rights read", "directory rights write"] {
                #expect(Self.check(report, name)?.ok == true, "\(name): \(report.text())")
            }
            // The probes change nothing: alice still binds with her password, nothing was locked.
            #expect(slapd.bind(user: "alice", password: slapd.initialPassword(of: "alice")))
            #expect(try !slapd.isLocked(uid: "alice"))
            #expect(report.json().hasPrefix("{\"checks\":[") && report.json().contains("\"ok\":true"))
        }
    }

    /// (what, edit, failing check, fragment of the detail, fragment of the fix)
    @Test("wrong CA: TLS fails and the fix names ca_file")
    func wrongCA() async throws {
        try await withSlapd { slapd in
            let s = try Setup(slapd); defer { s.cleanup() }
            try s.write(caFile: slapd.wrongCAFile)
            let report = await s.run()
            #expect(!report.ok)
            let tls = try #require(Self.check(report, " tls"))
            #expect(!tls.ok && tls.detail.contains("TLS failed"), "\(tls)")
            #expect(tls.fix?.contains("ca_file") == true)
        }
    }

    @Test("wrong bind password: bind fails with invalid credentials and the fix names bind_password_file")
    func wrongPassword() async throws {
        try await withSlapd { slapd in
            let s = try Setup(slapd); defer { s.cleanup() }
            let wrong = s.dir + "/wrong-password"
            _ = FileManager.default.createFile(atPath: wrong, contents: Data("not-\(UUID().uuidString)\n".utf8), attributes: [.posixPermissions: 0o600])
            try s.write(passwordFile: wrong)
            let report = await s.run()
            let bind = try #require(Self.check(report, " bind"))
            #expect(!bind.ok && bind.detail.contains("invalid credentials (49)"), "\(bind)")
            #expect(bind.fix?.contains("bind_password_file") == true)
            #expect(Self.check(report, " tls")?.ok == true)
            #expect(!report.text().contains(slapd.initialPassword(of: "alice")))
        }
    }

    @Test("a service account without write rights: the rights check fails and names the ACL")
    func noWriteRights() async throws {
        try await withSlapd { slapd in
            let s = try Setup(slapd); defer { s.cleanup() }
            try s.write(bindDN: slapd.readonlyDN, passwordFile: slapd.readonlyPasswordFile)
            let report = await s.run()
            #expect(Self.check(report, " bind")?.ok == true, "\(report.text())")
            let write = try #require(Self.check(report, "directory rights write"))
            #expect(!write.ok && write.detail.contains("no write access to userPassword, pwdAccountLockedTime, pwdReset"), "\(write)")
            #expect(write.fix?.contains("write") == true && write.fix?.contains("manage") == true)
        }
    }

    @Test("every configured group is checked: readable ones pass, a hidden or missing one fails with its consequence")
    func groups() async throws {
        try await withSlapd { slapd in
            let s = try Setup(slapd); defer { s.cleanup() }
            let g = slapd.groupDN
            try s.write(baseDN: slapd.peopleDN, policy: """
                sspr_scope = "selected"
                sspr_groups = ["\(g("sspr-users"))", "\(g("no-such-group"))"]
                protected_groups = ["\(g("admins"))", "\(g("restricted"))"]
                """)
            let report = await s.run()
            #expect(!report.ok)
            let base = try #require(Self.check(report, "directory group_base_dn"), "\(report.text())")
            #expect(base.ok && base.detail.contains(slapd.baseDN) && base.detail.contains("naming context"), "\(base)")
            #expect(Self.check(report, "group \(g("sspr-users"))")?.ok == true, "\(report.text())")
            #expect(Self.check(report, "group \(g("admins"))")?.ok == true, "\(report.text())")
            let hidden = try #require(Self.check(report, "group \(g("restricted"))"))
            #expect(!hidden.ok && hidden.detail.contains("protected_group_unreadable") && hidden.fix?.contains("read") == true, "\(hidden)")
            let missing = try #require(Self.check(report, "group \(g("no-such-group"))"))
            #expect(!missing.ok && missing.detail.contains("sspr_groups") && missing.fix?.contains("correct the DN") == true, "\(missing)")
            // Groups outside the group base are named too.
            try s.write(extra: "group_base_dn = \"\(slapd.peopleDN)\"", baseDN: slapd.peopleDN, policy: "protected_groups = [\"\(g("admins"))\"]")
            let narrow = await s.run()
            let outside = try #require(Self.check(narrow, "group \(g("admins"))"))
            #expect(!outside.ok && outside.detail.contains("outside the group base"), "\(outside)")
        }
    }

    @Test("an unreachable URI is named with its fix, the reachable one still passes")
    func unreachable() async throws {
        try await withSlapd { slapd in
            let s = try Setup(slapd); defer { s.cleanup() }
            let port = Self.closedPort()
            try s.write(uri: "ldap://127.0.0.1:\(port)\", \"\(slapd.uri)")
            let report = await s.run()
            let reach = try #require(report.checks.first { $0.name == "directory ldap://127.0.0.1:\(port) reachable" })
            #expect(!reach.ok && reach.detail.contains("Connection refused"), "\(reach)")
            #expect(reach.fix?.contains("host and port") == true)
            #expect(report.checks.first { $0.name == "directory \(slapd.uri) reachable" }?.ok == true)
            #expect(Self.check(report, "directory rights write")?.ok == true)
        }
    }

    @Test("a sealing key with mode 0644 fails with chmod 600, and the CLI exits 1")
    func keyMode() async throws {
        try await withSlapd { slapd in
            let s = try Setup(slapd); defer { s.cleanup() }
            try s.write()
            chmod(s.dir + "/keys/daemon-sealing.key", 0o644)
            let report = await s.run()
            let key = try #require(Self.check(report, "keys.sealing_private_key"))
            #expect(!key.ok && key.detail.contains("mode 0644"), "\(key)")
            #expect(key.fix == "chmod 600 \(s.dir)/keys/daemon-sealing.key")

            let ctl = DaemonProcess.ctlPath
            if FileManager.default.isExecutableFile(atPath: ctl) {
                let r = try ToolRunner.run(ctl, ["doctor", "--config", s.configPath])
                #expect(r.status == 1)
                #expect(r.stdout.contains("✗ keys.sealing_private_key:") && r.stdout.contains("fix: chmod 600"), "\(r.stdout)")
                #expect(r.stdout.contains("✓ config:"))
                let j = try ToolRunner.run(ctl, ["doctor", "--config", s.configPath, "--json"])
                #expect(j.status == 1 && j.stdout.contains("\"ok\":false"))
            }
        }
    }

    @Test("a bad configuration is one failed check that names file, line and key")
    func badConfig() async throws {
        let dir = try Slapd.makeTempDir(prefix: "doctor-cfg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bad.toml"
        try "[directory]\nflavor = \"openldap\"\nurl = \"ldaps://x\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let report = await Doctor(configPath: path).run()
        #expect(report.checks.count == 1)
        #expect(report.checks[0].detail == "\(path):3: directory.url: unknown key (did you mean \"uri\"?)", "\(report.checks[0])")
    }

    /// A loopback port nobody listens on.
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
