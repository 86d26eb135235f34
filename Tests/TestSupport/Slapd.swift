import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway OpenLDAP slapd for one test suite, started by `scripts/testenv/slapd.sh` in a
/// fresh temporary directory on a free loopback port (ppolicy, TLS with a test CA made now,
/// nested groups, a write-only service account and a read-only one). Exists so that every
/// directory test runs against a real server and never leaks it: use `withSlapd { }`, which
/// stops the server (by PID) also when the body throws; a crashed test process is covered by
/// the script's watchdog.
///
/// Passwords never go on a command line: helpers hand them to the ldap tools through 0600
/// files inside the server's directory, deleted right after.
public struct Slapd: Sendable {
    /// Every KEY=VALUE line the script printed (URI, LDAPI_URI, PORT, PID, CA_FILE, …).
    public let facts: [String: String]
    /// The temporary directory that holds the database, config, certificates and secrets.
    public let dir: String

    public var uri: String { facts["URI"]! }
    public var ldapiURI: String { facts["LDAPI_URI"]! }
    public var port: Int { Int(facts["PORT"]!)! }
    public var pid: pid_t { pid_t(facts["PID"]!)! }
    public var caFile: String { facts["CA_FILE"]! }
    public var wrongCAFile: String { facts["WRONG_CA_FILE"]! }
    public var baseDN: String { facts["BASE_DN"]! }
    public var peopleDN: String { facts["PEOPLE_DN"]! }
    public var groupsDN: String { facts["GROUPS_DN"]! }
    /// Whether the memberof overlay runs (`start(memberOf: true)`).
    public var memberOf: Bool { facts["MEMBEROF"] == "yes" }
    /// The ppolicy default (`ppolicy_default`), readable by the service account in cn=config.
    public var defaultPolicyDN: String { facts["DEFAULT_POLICY_DN"]! }
    /// A group DN under ou=groups.
    public func groupDN(_ cn: String) -> String { "cn=\(cn),\(groupsDN)" }
    /// The `write`-only service account (`cn=writebackd,ou=services,…`).
    public var bindDN: String { facts["BIND_DN"]! }
    public var bindPasswordFile: String { facts["BIND_PASSWORD_FILE"]! }
    public var readonlyDN: String { facts["READONLY_DN"]! }
    public var readonlyPasswordFile: String { facts["READONLY_PASSWORD_FILE"]! }
    /// The rootdn: bypasses ACLs and ppolicy. For fixtures and inspection only.
    public var adminDN: String { facts["ADMIN_DN"]! }
    public var adminPasswordFile: String { facts["ADMIN_PASSWORD_FILE"]! }
    /// The preloaded users: alice bob carol dave erin frank grace.
    public var users: [String] { facts["USERS"]!.split(separator: ",").map(String.init) }
    public var benchPasswordFile: String? { facts["BENCH_PASSWORD_FILE"].flatMap { $0.isEmpty ? nil : $0 } }

    /// The repository's `scripts/testenv/slapd.sh`, found from this file's location.
    public static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/testenv/slapd.sh").path
    }

    /// Starts a new server. `benchUsers` adds uid=bench00001… under ou=bench sharing
    /// `benchPasswordFile`; `dbnosync` trades durability for speed (benchmarks). `baseDN`
    /// (`dc=…,dc=…`) instead of dc=example,dc=org gives a second, different tree; its users'
    /// mail addresses follow it (`dc=contoso,dc=com` → `alice@contoso.com`). `memberOf` runs the
    /// memberof overlay.
    public static func start(benchUsers: Int = 0, dbnosync: Bool = false, baseDN: String? = nil, memberOf: Bool = false) throws -> Slapd {
        let dir = try Slapd.makeTempDir(prefix: "slapd")
        var args = ["start", dir, "--watch-pid", String(getpid())]
        if let baseDN { args += ["--base", baseDN] }
        if benchUsers > 0 { args += ["--users", String(benchUsers)] }
        if dbnosync { args.append("--dbnosync") }
        if memberOf { args.append("--memberof") }
        let r = try ToolRunner.run("/bin/bash", [script] + args)
        guard r.status == 0 else {
            throw SlapdHarnessError.startFailed("slapd.sh exited \(r.status): \(r.stderr)")
        }
        var facts: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            facts[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        guard facts["URI"] != nil, facts["PID"] != nil else { throw SlapdHarnessError.startFailed("no facts: \(r.stdout)") }
        return Slapd(facts: facts, dir: dir)
    }

    /// Stops the server by its PID (via the pid file, so a second call does nothing) and
    /// removes its directory.
    public func stop() {
        _ = try? ToolRunner.run("/bin/bash", [Self.script, "stop", dir])
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// SIGSTOP / SIGCONT the server (timeouts: the socket stays open, nothing answers).
    public func suspend() { kill(pid, SIGSTOP) }
    public func resume() { kill(pid, SIGCONT) }

    public func userDN(_ uid: String) -> String { "uid=\(uid),\(peopleDN)" }
    /// The file holding a preloaded user's initial password (0600, no newline).
    public func passwordFile(of uid: String) -> String { "\(dir)/secrets/user-\(uid)" }
    /// A preloaded user's initial password.
    public func initialPassword(of uid: String) -> String {
        (try? String(contentsOfFile: passwordFile(of: uid), encoding: .utf8)) ?? ""
    }

    /// Whether a simple bind as `dn` with `password` succeeds (ldapwhoami over StartTLS).
    /// Every failed bind counts towards the ppolicy lockout.
    public func bind(dn: String, password: String) -> Bool {
        withSecretFile(password) { file in
            let r = try? ldap("/usr/bin/ldapwhoami", ["-x", "-ZZ", "-H", uri, "-D", dn, "-y", file])
            return r?.status == 0
        }
    }

    public func bind(user uid: String, password: String) -> Bool { bind(dn: userDN(uid), password: password) }

    /// Locks `uid` the way it happens in real life: three failed binds (pwdMaxFailure 3).
    public func lockAccount(uid: String) {
        for _ in 0..<3 { _ = bind(user: uid, password: "wrong-\(UUID().uuidString)") }
    }

    /// Whether `pwdAccountLockedTime` is present on `uid`.
    public func isLocked(uid: String) throws -> Bool { try !attribute(dn: userDN(uid), name: "pwdAccountLockedTime").isEmpty }

    /// The values of `name` (operational attributes too) on `dn`, read as the rootdn.
    public func attribute(dn: String, name: String) throws -> [String] {
        let r = try ldap("/usr/bin/ldapsearch", ["-x", "-ZZ", "-H", uri, "-D", adminDN, "-y", adminPasswordFile,
                                                  "-LLL", "-o", "ldif-wrap=no", "-b", dn, "-s", "base", "(objectClass=*)", name])
        guard r.status == 0 else { throw SlapdHarnessError.commandFailed("ldapsearch \(dn): \(r.stderr)") }
        var values: [String] = []
        let prefix = name.lowercased()
        for line in r.stdout.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            guard line[..<colon].lowercased() == prefix else { continue }
            var rest = line[line.index(after: colon)...]
            if rest.hasPrefix(":") {
                rest = rest.dropFirst()
                let b64 = rest.trimmingCharacters(in: .whitespaces)
                values.append(Data(base64Encoded: b64).flatMap { String(data: $0, encoding: .utf8) } ?? b64)
            } else {
                values.append(String(rest.drop(while: { $0 == " " })))
            }
        }
        return values
    }

    /// How many values of `name` each entry under `base` has (one subtree search as the rootdn,
    /// for checks over thousands of users), keyed by the entry's lower-cased `uid`.
    public func valueCounts(base: String, name: String) throws -> [String: Int] {
        let r = try ldap("/usr/bin/ldapsearch", ["-x", "-ZZ", "-H", uri, "-D", adminDN, "-y", adminPasswordFile, "-z", "0",
                                                  "-LLL", "-o", "ldif-wrap=no", "-b", base, "-s", "sub", "(uid=*)", "uid", name])
        guard r.status == 0 else { throw SlapdHarnessError.commandFailed("ldapsearch \(base): \(r.stderr)") }
        var counts: [String: Int] = [:]
        for entry in r.stdout.components(separatedBy: "\n\n") {
            var uid: String?, n = 0
            for line in entry.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let attribute = line[..<colon].lowercased()
                if attribute == "uid" { uid = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased() }
                if attribute == name.lowercased() { n += 1 }
            }
            if let uid { counts[uid] = n }
        }
        return counts
    }

    /// Adds an inetOrgPerson `uid` under ou=people (as the rootdn, so ppolicy is skipped;
    /// the cleartext password is hashed by the server). Returns its DN.
    @discardableResult
    public func addUser(uid: String, password: String, mail: String? = nil, displayName: String? = nil) throws -> String {
        let dn = userDN(uid)
        var ldif = "dn: \(dn)\nobjectClass: inetOrgPerson\nuid: \(uid)\ncn: \(uid)\nsn: \(uid)\n"
        if let mail { ldif += "mail: \(mail)\n" }
        if let displayName { ldif += "displayName:: \(Data(displayName.utf8).base64EncodedString())\n" }
        ldif += "userPassword:: \(Data(password.utf8).base64EncodedString())\n"
        try modify(ldif: ldif, add: true)
        return dn
    }

    /// Applies `ldif` as the rootdn (`ldapmodify`, or `ldapadd` when `add`); `relax` sends the
    /// Relax Rules control, so operational attributes such as `pwdChangedTime` can be set.
    public func modify(ldif: String, add: Bool = false, relax: Bool = false) throws {
        let file = try writeSecretFile(ldif)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try ldap("/usr/bin/ldapmodify", (add ? ["-a"] : []) + (relax ? ["-e", "relax"] : []) + ["-x", "-ZZ", "-H", uri, "-D", adminDN, "-y", adminPasswordFile, "-f", file])
        guard r.status == 0 else { throw SlapdHarnessError.commandFailed("ldapmodify: \(r.stderr)") }
    }

    // MARK: - plumbing

    private func ldap(_ tool: String, _ args: [String]) throws -> ToolRunner.Result {
        try ToolRunner.run(tool, args, environment: ["LDAPTLS_CACERT": caFile, "LDAPTLS_REQCERT": "demand"])
    }

    private func writeSecretFile(_ text: String) throws -> String {
        let path = "\(dir)/secrets/tmp-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw SlapdHarnessError.commandFailed("cannot write \(path)")
        }
        return path
    }

    private func withSecretFile<R>(_ secret: String, _ body: (String) -> R) -> R {
        guard let file = try? writeSecretFile(secret) else { return body("/nonexistent") }
        defer { try? FileManager.default.removeItem(atPath: file) }
        return body(file)
    }
}

/// Runs `body` with a fresh slapd and stops it afterwards, also when `body` throws.
public func withSlapd<T>(benchUsers: Int = 0, dbnosync: Bool = false, baseDN: String? = nil, memberOf: Bool = false,
                         isolation: isolated (any Actor)? = #isolation,
                         _ body: (Slapd) async throws -> T) async throws -> T {
    // Off the cooperative pool: starting slapd waits for a script (and, with bench users, for
    // slapadd), and on 2 cores a blocked pool thread stalls every other test.
    let slapd = try await offPool("slapd-start") { try Slapd.start(benchUsers: benchUsers, dbnosync: dbnosync, baseDN: baseDN, memberOf: memberOf) }
    defer { slapd.stop() }
    return try await body(slapd)
}

/// Why a test server harness could not do what a test asked.
public enum SlapdHarnessError: Error, CustomStringConvertible {
    case startFailed(String)
    case commandFailed(String)
    public var description: String {
        switch self {
        case .startFailed(let m): "server did not start: \(m)"
        case .commandFailed(let m): "harness command failed: \(m)"
        }
    }
}

extension Slapd {
    /// A fresh directory under /tmp (mode 0700; short, so the ldapi socket path fits).
    public static func makeTempDir(prefix: String) throws -> String {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw SlapdHarnessError.commandFailed("mkdtemp failed") }
        return String(cString: p)
    }
}

/// Runs a command line tool to completion and collects its output (through temporary files,
/// so a chatty tool cannot fill a pipe and a daemon it starts cannot hold one open). Uses
/// posix_spawn + waitpid on the child's PID: Foundation's Process lost child exits when many
/// tests spawned tools in parallel.
public enum ToolRunner {
    /// `posix_spawn_file_actions_addclosefrom_np(actions, 3)` (glibc 2.34): the child gets
    /// stdin, stdout and stderr and nothing else. Without it every descriptor the test process
    /// has open without close-on-exec (Foundation's `Pipe`s among them) leaks into the tool and
    /// into daemons it starts: a slapd that inherited another test's stdout pipe kept that test
    /// waiting for EOF forever. Looked up at run time (a GNU extension Swift does not import).
    static func addCloseFrom3(_ actions: inout posix_spawn_file_actions_t) -> Bool {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return false }
        return unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3) == 0
    }

    /// `pipe2(fds, O_CLOEXEC)`: both ends close-on-exec from the start, with no window in
    /// which a concurrent spawn could inherit them. pipe2 is a GNU extension that Swift's Glibc
    /// module does not export, so it is looked up at run time.
    static func pipeCloseOnExec(_ fds: inout [Int32]) -> Int32 {
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else { return -1 }
        let pipe2 = unsafeBitCast(symbol, to: Pipe2.self)
        return fds.withUnsafeMutableBufferPointer { pipe2($0.baseAddress!, O_CLOEXEC) }
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a tool to completion with `posix_spawn` + `waitpid` (Foundation's `Process` left
    /// the harness script unreaped when called off the cooperative pool). `stdin` goes through
    /// a pipe, never a file; output goes through 0600 temporary files.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                           stdin: Data? = nil) throws -> Result {
        let tmp = try Slapd.makeTempDir(prefix: "tool")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let outPath = tmp + "/out", errPath = tmp + "/err"
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        signal(SIGPIPE, SIG_IGN)   // a tool that exits early must not kill the test process
        // Close-on-exec: parallel tests spawn tools at the same moment, and a child that
        // inherited another tool's write end keeps that tool waiting for EOF forever (two
        // ldapmodify runs deadlocked that way). dup2 onto fd 0 clears the flag for the child's
        // own stdin only.
        var fds: [Int32] = [0, 0]
        guard Self.pipeCloseOnExec(&fds) == 0 else { throw SlapdHarnessError.commandFailed("pipe2 failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        posix_spawn_file_actions_addclose(&actions, fds[1])
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard Self.addCloseFrom3(&actions) else { throw SlapdHarnessError.commandFailed("posix_spawn_file_actions_addclosefrom_np is missing (glibc < 2.34)") }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        close(fds[0])
        guard rc == 0 else { close(fds[1]); throw SlapdHarnessError.commandFailed("posix_spawn \(executable): \(rc)") }
        if let stdin {
            stdin.withUnsafeBytes { buf in
                var off = 0
                while off < buf.count {
                    let n = write(fds[1], buf.baseAddress! + off, buf.count - off)
                    if n <= 0 { break }
                    off += n
                }
            }
        }
        close(fds[1])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exit: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Result(status: exit,
                                 stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                                 stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}
