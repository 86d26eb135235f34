import Foundation
import Testing
import TestSupport

/// The shipped systemd files, checked with systemd's own tools: `systemd-analyze verify` must be
/// clean on the unit as `make install` lays it out, `systemd-analyze security --offline=yes`
/// must rate it at most 2.0, and sysusers/tmpfiles must apply to an empty root.
@Suite("systemd unit", .serialized)
struct SystemdUnitTests {
    static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// Installs with scripts/install.sh into a temporary DESTDIR (stand-in binaries: the unit is
    /// what is under test) and returns the DESTDIR.
    static func installTree() throws -> String {
        let tmp = try Slapd.makeTempDir(prefix: "install")
        let bin = tmp + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for name in ["writebackd", "writebackctl"] {
            _ = FileManager.default.createFile(atPath: "\(bin)/\(name)", contents: Data("#!/bin/sh\nexit 0\n".utf8),
                                           attributes: [.posixPermissions: 0o755])
        }
        let r = try ToolRunner.run("/bin/bash", [root + "/scripts/install.sh", tmp + "/destdir", "/usr/local"], environment: ["BIN_DIR": bin])
        #expect(r.status == 0, "install.sh: \(r.stderr)")
        return tmp
    }

    @Test("install.sh lays out binaries, unit, sysusers, tmpfiles, man pages and examples")
    func layout() throws {
        let tmp = try Self.installTree()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let d = tmp + "/destdir"
        for path in ["/usr/local/bin/writebackd", "/usr/local/bin/writebackctl",
                     "/usr/local/lib/systemd/system/writebackd.service",
                     "/usr/local/lib/sysusers.d/writebackd.conf", "/usr/local/lib/tmpfiles.d/writebackd.conf",
                     "/usr/local/share/man/man8/writebackd.8", "/usr/local/share/man/man8/writebackctl.8",
                     "/usr/local/share/doc/writebackd/examples/writebackd.toml",
                     "/usr/local/share/doc/writebackd/examples/active-directory.toml",
                     "/usr/local/share/doc/writebackd/examples/openldap.toml",
                     "/usr/local/share/doc/writebackd/examples/several-directories.toml",
                     "/etc/writebackd/writebackd.toml"] {
            #expect(FileManager.default.fileExists(atPath: d + path), "\(path)")
        }
        let mode = try FileManager.default.attributesOfItem(atPath: d + "/etc/writebackd/credentials")[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test("systemd-analyze verify is clean and security exposure is at most 2.0")
    func verifyAndSecurity() throws {
        let tmp = try Self.installTree()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let d = tmp + "/destdir"
        // verify checks that ExecStart exists on this machine: point it at the DESTDIR copy.
        let installed = try String(contentsOfFile: d + "/usr/local/lib/systemd/system/writebackd.service", encoding: .utf8)
        #expect(installed.contains("ExecStart=/usr/local/bin/writebackd --config /etc/writebackd/writebackd.toml"))
        let unit = tmp + "/writebackd.service"
        try installed.replacingOccurrences(of: "/usr/local/bin/writebackd", with: d + "/usr/local/bin/writebackd")
            .write(toFile: unit, atomically: true, encoding: .utf8)
        // --man=yes (the default) finds the installed man pages through MANPATH.
        let verify = try ToolRunner.run("/usr/bin/systemd-analyze", ["verify", unit],
                                        environment: ["MANPATH": d + "/usr/local/share/man"])
        #expect(verify.status == 0 && verify.stderr.isEmpty && verify.stdout.isEmpty,
                "verify: \(verify.stdout)\(verify.stderr)")

        let security = try ToolRunner.run("/usr/bin/systemd-analyze", ["security", "--offline=yes", "--no-pager", unit])
        #expect(security.status == 0, "\(security.stderr)")
        let last = security.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") }
        let score = last.flatMap { line in
            line.split(separator: " ").compactMap { Double($0) }.first
        }
        let exposure = try #require(score, "no exposure line in: \(security.stdout)")
        print("systemd-analyze security --offline=yes: exposure \(exposure)")
        #expect(exposure <= 2.0)
    }

    @Test("sysusers and tmpfiles apply to an empty root")
    func sysusersAndTmpfiles() throws {
        let tmp = try Slapd.makeTempDir(prefix: "sysroot")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        try FileManager.default.createDirectory(atPath: tmp + "/etc", withIntermediateDirectories: true)
        let users = try ToolRunner.run("/usr/bin/systemd-sysusers", ["--root=" + tmp, Self.root + "/systemd/writebackd.sysusers"])
        #expect(users.status == 0, "\(users.stderr)")
        let passwd = try String(contentsOfFile: tmp + "/etc/passwd", encoding: .utf8)
        #expect(passwd.contains("writebackd:x:") && passwd.contains("/usr/sbin/nologin"))
        let group = try String(contentsOfFile: tmp + "/etc/group", encoding: .utf8)
        #expect(group.contains("writebackd:x:"))
        let files = try ToolRunner.run("/usr/bin/systemd-tmpfiles", ["--root=" + tmp, "--create", Self.root + "/systemd/writebackd.tmpfiles"])
        #expect(files.status == 0, "\(files.stderr)")
        for (path, mode) in [("/etc/writebackd/credentials", 0o700), ("/var/lib/writebackd", 0o700), ("/var/lib/writebackd/outbox", 0o700)] {
            let m = try FileManager.default.attributesOfItem(atPath: tmp + path)[.posixPermissions] as? Int
            #expect(m == mode, "\(path)")
        }
    }

    @Test("the unit keeps its contract settings")
    func contractSettings() throws {
        let unit = try String(contentsOfFile: Self.root + "/systemd/writebackd.service", encoding: .utf8)
        for line in ["Type=notify", "NotifyAccess=main", "WatchdogSec=30", "User=writebackd", "StateDirectory=writebackd",
                     "RuntimeDirectory=writebackd", "ConfigurationDirectory=writebackd",
                     "LoadCredential=bind-password:/etc/writebackd/credentials/bind-password",
                     "LoadCredential=daemon-sealing.key:/etc/writebackd/credentials/daemon-sealing.key",
                     "ProtectSystem=strict", "CapabilityBoundingSet=\n", "NoNewPrivileges=yes", "UMask=0077",
                     "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "SystemCallFilter=@system-service"] {
            #expect(unit.contains(line), "\(line)")
        }
    }
}
