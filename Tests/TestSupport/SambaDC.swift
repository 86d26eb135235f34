import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real Active Directory the AD tests run against: a Samba AD DC started by
/// `scripts/testenv/samba-dc.sh` from a provisioned snapshot (realm EXAMPLE.TEST, ldaps on
/// 127.0.0.1:636 with a test CA made at start, lockout after 3 bad passwords, minimum length 12,
/// complexity; a service account with exactly writeback's rights on OU=People and a read-only
/// one). Exists because Samba's ports are fixed: one DC serves every AD test of the process.
/// `SambaDC.shared()` starts it on first use; it is stopped by PID at process exit (`atexit`),
/// and by the script's watchdog within a second if the test process dies any other way.
/// Tests keep out of each other's way by creating their own users (`createUser`).
///
/// Passwords never go on a command line: helpers hand them to the ldap tools on stdin.
public struct SambaDC: Sendable {
    /// Every KEY=VALUE fact the script printed (URI, CA_FILE, BASE_DN, BIND_DN, PID, PGID, ...).
    public let facts: [String: String]
    public let dir: String

    public var uri: String { facts["URI"]! }
    public var plainURI: String { facts["PLAIN_URI"]! }
    public var caFile: String { facts["CA_FILE"]! }
    public var wrongCAFile: String { facts["WRONG_CA_FILE"]! }
    public var realm: String { facts["REALM"]! }
    public var baseDN: String { facts["BASE_DN"]! }
    /// OU=People: where the service account's rights are delegated and test users live.
    public var usersDN: String { facts["USERS_DN"]! }
    public var groupsDN: String { facts["GROUPS_DN"]! }
    /// svc-writeback: reset/change password, write lockoutTime and pwdLastSet, read, on OU=People.
    public var bindDN: String { facts["BIND_DN"]! }
    public var bindPasswordFile: String { facts["BIND_PASSWORD_FILE"]! }
    /// svc-readonly: read only (writes answer rc 50).
    public var readonlyDN: String { facts["READONLY_DN"]! }
    public var readonlyPasswordFile: String { facts["READONLY_PASSWORD_FILE"]! }
    /// The domain's Administrator: fixtures and inspection only.
    public var adminDN: String { facts["ADMIN_DN"]! }
    public var adminPasswordFile: String { facts["ADMIN_PASSWORD_FILE"]! }
    /// Tier0 Admins ⊃ Helpdesk Leads ⊃ nora.nested (nested protected membership).
    public var protectedGroupDN: String { facts["PROTECTED_GROUP_DN"]! }
    public var nestedGroupDN: String { facts["NESTED_GROUP_DN"]! }
    /// SSPR Pilot ⊃ paul.plain, Helpdesk Leads.
    public var ssprGroupDN: String { facts["SSPR_GROUP_DN"]! }
    public var lockoutThreshold: Int { Int(facts["LOCKOUT_THRESHOLD"]!)! }
    public var minPasswordLength: Int { Int(facts["MIN_PASSWORD_LENGTH"]!)! }
    /// GSSAPI: `ldap://127.0.0.1:389` (SASL sealing; the DC has the SPN ldap/127.0.0.1), the
    /// private krb5.conf to point KRB5_CONFIG at, and svc-writeback's keytab.
    public var gssapiURI: String { facts["GSSAPI_URI"]! }
    public var krb5Config: String { facts["KRB5_CONFIG"]! }
    public var keytab: String { facts["KEYTAB"]! }
    public var principal: String { facts["PRINCIPAL"]! }
    public var pid: pid_t { pid_t(facts["PID"]!)! }
    public var pgid: pid_t { pid_t(facts["PGID"]!)! }
    public var smbConf: String { facts["SMB_CONF"]! }

    /// The provisioned users whose facts tests read (random passwords nobody knows):
    /// paul.plain, alice.admin (adminCount 1), dave.disabled (disabled), nora.nested (in Tier0
    /// Admins through Helpdesk Leads), twin.one / twin.two (share mail twins@example.test).
    public func userDN(cn: String) -> String { "CN=\(cn),\(usersDN)" }

    /// The repository's `scripts/testenv/samba-dc.sh`, found from this file's location.
    public static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/testenv/samba-dc.sh").path
    }

    /// The process's DC, started on first call (≈ 1 s from the snapshot; ≈ 10 s more when the
    /// snapshot must be provisioned first). Waits while another process's DC holds the ports.
    public static func shared() async throws -> SambaDC {
        try await SharedSambaDC.instance.get()
    }

    /// Starts a DC in a fresh directory (blocking). Prefer `shared()`: one DC per machine at a time.
    public static func start() throws -> SambaDC {
        let dir = try Slapd.makeTempDir(prefix: "samba-dc")
        let r = try ToolRunner.run("/bin/bash", [script, "start", dir], environment: ["SAMBA_DC_OWNER_PID": String(getpid())])
        guard r.status == 0 else {
            throw SlapdHarnessError.startFailed("samba-dc.sh exited \(r.status): \(r.stderr)")
        }
        let facts = parseFacts(r.stdout)
        guard facts["URI"] != nil, facts["PGID"] != nil else { throw SlapdHarnessError.startFailed("no facts: \(r.stdout)") }
        return SambaDC(facts: facts, dir: dir)
    }

    /// Stops the DC (its whole process group, by PGID) and removes its directory.
    public func stop() {
        _ = try? ToolRunner.run("/bin/bash", [Self.script, "stop", dir])
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// SIGSTOP the DC's whole process group for `seconds`: connections stay open, nothing
    /// answers (timeouts). The SIGCONT comes from a thread of its own, so it happens even when
    /// every cooperative thread is blocked waiting for the stopped DC (a tool run by another
    /// test). Keep it short: every AD test of the process shares this DC.
    public func suspend(for seconds: Double) {
        let group = pgid
        kill(-group, SIGSTOP)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: seconds)
            kill(-group, SIGCONT)
        }
    }

    static func parseFacts(_ text: String) -> [String: String] {
        var facts: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            facts[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return facts
    }
}

/// Starts the process's one DC off the cooperative pool, once, and registers its stop at exit.
private actor SharedSambaDC {
    static let instance = SharedSambaDC()
    private var task: Task<SambaDC, any Error>?

    func get() async throws -> SambaDC {
        if let task { return try await task.value }
        let task = Task<SambaDC, any Error> {
            let dc = try await offPool("samba-dc-start") { try SambaDC.start() }
            RunningDC.set(dc)
            return dc
        }
        self.task = task
        return try await task.value
    }
}

/// The started DC, for the `atexit` handler (a C function pointer cannot capture).
private enum RunningDC {
    // Safety of `nonisolated(unsafe)`: every access holds `lock`.
    private nonisolated(unsafe) static var dc: SambaDC?
    private nonisolated(unsafe) static var registered = false
    private static let lock = NSLock()

    static func set(_ value: SambaDC) {
        lock.lock(); defer { lock.unlock() }
        dc = value
        if !registered {
            registered = true
            atexit { RunningDC.stopAtExit() }
        }
    }

    static func stopAtExit() {
        lock.lock(); let value = dc; dc = nil; lock.unlock()
        value?.stop()
    }
}

// MARK: - Fixtures and inspection (as Administrator, over ldaps with the test CA)

extension SambaDC {
    /// The outcome of one simple bind: `rc` 0 on success; 49 with `data 775` in `diagnostic`
    /// when the account is locked, `data 52e` for a wrong password.
    public struct BindResult: Sendable {
        public var rc: Int32
        public var diagnostic: String
        public var succeeded: Bool { rc == 0 }
        public var accountLocked: Bool { rc == 49 && diagnostic.contains("data 775") }
    }

    /// A password the domain accepts (16 characters, all four classes), new on every call.
    public static func newPassword() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return "Q7!" + String((0..<13).map { _ in alphabet.randomElement()! }) + "z"
    }

    /// A sAMAccountName no other test uses (≤ 20 characters, AD's limit).
    public static func uniqueName(_ prefix: String) -> String {
        String(prefix.prefix(11)) + "-" + String(UUID().uuidString.lowercased().prefix(8))
    }

    /// Creates an enabled user `CN=<sam>,OU=People` with `password`. Returns its DN.
    @discardableResult
    public func createUser(sam: String, password: String, displayName: String? = nil, mail: String? = nil,
                           otherMailbox: String? = nil, groups: [String] = []) throws -> String {
        let dn = userDN(cn: sam)
        var ldif = "dn: \(dn)\nchangetype: add\nobjectClass: user\nsAMAccountName: \(sam)\n"
        ldif += "userPrincipalName: \(sam)@\(realm.lowercased())\n"
        if let displayName { ldif += "displayName:: \(Data(displayName.utf8).base64EncodedString())\n" }
        if let mail { ldif += "mail: \(mail)\n" }
        if let otherMailbox { ldif += "otherMailbox: \(otherMailbox)\n" }
        ldif += "unicodePwd:: \(Self.unicodePwd(password))\nuserAccountControl: 512\n"
        for group in groups { ldif += "\ndn: \(group)\nchangetype: modify\nadd: member\nmember: \(dn)\n-\n" }
        try modify(ldif: ldif)
        return dn
    }

    /// Sets `dn`'s password as Administrator (no must-change).
    public func setPassword(dn: String, password: String) throws {
        try modify(ldif: "dn: \(dn)\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: \(Self.unicodePwd(password))\n-\n")
    }

    /// One simple bind over ldaps (`ldapsearch` of the RootDSE). Failed binds count towards lockout.
    public func bind(dn: String, password: String) -> BindResult {
        let r = try? ldap("/usr/bin/ldapsearch", ["-x", "-H", uri, "-D", dn, "-y", "/dev/stdin",
                                                   "-b", "", "-s", "base", "1.1"], stdin: Data(password.utf8))
        return BindResult(rc: r.map { $0.status == 0 ? 0 : Self.ldapResultCode($0.stderr) ?? $0.status } ?? -1,
                          diagnostic: r?.stderr ?? "")
    }

    /// Locks `dn` the way it happens in real life: `lockoutThreshold` binds with wrong passwords.
    public func lockAccount(dn: String) {
        for _ in 0..<lockoutThreshold { _ = bind(dn: dn, password: "Wrong-\(UUID().uuidString)") }
    }

    /// The values of `name` on `dn` (operational and constructed attributes too), read as Administrator.
    public func attribute(dn: String, name: String) throws -> [String] {
        let r = try ldap("/usr/bin/ldapsearch", ["-x", "-H", uri, "-D", adminDN, "-y", adminPasswordFile, "-LLL",
                                                  "-o", "ldif-wrap=no", "-b", dn, "-s", "base", "(objectClass=*)", name])
        guard r.status == 0 else { throw SlapdHarnessError.commandFailed("ldapsearch \(dn): \(r.stderr)") }
        return r.stdout.split(separator: "\n").compactMap { line -> String? in
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == name.lowercased() else { return nil }
            let rest = line[line.index(after: colon)...]
            if rest.hasPrefix(":") {
                let b64 = rest.dropFirst().trimmingCharacters(in: .whitespaces)
                return Data(base64Encoded: b64).flatMap { String(data: $0, encoding: .utf8) } ?? b64
            }
            return String(rest.drop(while: { $0 == " " }))
        }
    }

    /// Applies `ldif` (with `changetype` lines) as Administrator; the LDIF travels on stdin.
    public func modify(ldif: String) throws {
        let r = try ldap("/usr/bin/ldapmodify", ["-x", "-H", uri, "-D", adminDN, "-y", adminPasswordFile],
                         stdin: Data(ldif.utf8))
        guard r.status == 0 else { throw SlapdHarnessError.commandFailed("ldapmodify: \(r.stderr)") }
    }

    /// base64 of the UTF-16LE of the quoted password: AD's `unicodePwd` value.
    static func unicodePwd(_ password: String) -> String {
        var bytes: [UInt8] = []
        for unit in "\"\(password)\"".utf16 { bytes.append(UInt8(unit & 0xFF)); bytes.append(UInt8(unit >> 8)) }
        return Data(bytes).base64EncodedString()
    }

    /// The LDAP result code in an ldap tool's stderr (`ldap_bind: Invalid credentials (49)`).
    static func ldapResultCode(_ stderr: String) -> Int32? {
        guard let open = stderr.firstIndex(of: "("), let close = stderr[open...].firstIndex(of: ")") else { return nil }
        return Int32(stderr[stderr.index(after: open)..<close])
    }

    private func ldap(_ tool: String, _ args: [String], stdin: Data? = nil) throws -> ToolRunner.Result {
        try ToolRunner.run(tool, args, environment: ["LDAPTLS_CACERT": caFile, "LDAPTLS_REQCERT": "demand"], stdin: stdin)
    }
}
