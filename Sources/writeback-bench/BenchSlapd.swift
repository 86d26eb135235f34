import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway slapd for the drain and the faults (scripts/testenv/slapd.sh: ppolicy with
/// `pwdInHistory 5`, a test CA, StartTLS on loopback), with what those runs need beyond
/// starting it: its facts, a SIGSTOP/SIGCONT, a kill and a restart on the same port and data,
/// and the `pwdHistory` count of every bench user (one write adds one entry, so a count
/// shows whether a user was written once, twice or not at all).
final class BenchSlapd: @unchecked Sendable {
    // @unchecked: `pid` changes only in `restart()`, which the one orchestrating task calls
    // while no other task reads it (the faults run is sequential); the rest is immutable.
    let dir: String
    let facts: [String: String]
    private(set) var pid: pid_t
    let root: String

    var uri: String { facts["URI"]! }
    var caFile: String { facts["CA_FILE"]! }
    var baseDN: String { facts["BASE_DN"]! }
    var bindDN: String { facts["BIND_DN"]! }
    var bindPasswordFile: String { facts["BIND_PASSWORD_FILE"]! }

    /// Starts slapd in `dir` with `users` bench users (uid=bench00001 …), `dbnosync` or not.
    init(root: String, dir: String, users: Int, dbnosync: Bool) throws {
        self.root = root
        self.dir = dir
        var args = ["\(root)/scripts/testenv/slapd.sh", "start", dir, "--users", "\(users)", "--watch-pid", "\(getpid())"]
        if dbnosync { args.append("--dbnosync") }
        let start = try BenchProcess.run("/bin/bash", args)
        guard start.status == 0 else { throw BenchError.failed("slapd.sh: \(start.stderr)") }
        facts = Dictionary(start.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }, uniquingKeysWith: { a, _ in a })
        guard let p = facts["PID"].flatMap(pid_t.init) else { throw BenchError.failed("slapd.sh printed no PID") }
        pid = p
    }

    static func uid(_ i: Int) -> String {
        let digits = String(i)
        return "bench" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    func dn(_ i: Int) -> String { "uid=\(Self.uid(i)),ou=bench,\(baseDN)" }

    func pause() { kill(pid, SIGSTOP) }
    func resume() { kill(pid, SIGCONT) }

    /// SIGKILL, then slapd again as slapd.sh started it: same port, same database.
    func restart() throws {
        kill(pid, SIGCONT)
        kill(pid, SIGKILL)
        for _ in 0..<400 where kill(pid, 0) == 0 { usleep(25_000) }
        try? FileManager.default.removeItem(atPath: dir + "/slapd.pid")
        try? FileManager.default.removeItem(atPath: dir + "/ldapi")
        let r = try BenchProcess.run("/usr/sbin/slapd", ["-h", "\(uri)/ \(facts["LDAPI_URI"]!)", "-f", facts["CONFIG"]!])
        guard r.status == 0 else { throw BenchError.failed("slapd restart: \(r.stderr)") }
        for _ in 0..<400 {
            if let text = try? String(contentsOfFile: dir + "/slapd.pid", encoding: .utf8),
               let p = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), p != pid { pid = p; return }
            usleep(25_000)
        }
        throw BenchError.failed("slapd did not come back")
    }

    func stop() {
        _ = try? BenchProcess.run("/bin/bash", ["\(root)/scripts/testenv/slapd.sh", "stop", dir])
    }

    /// `pwdHistory` entries per bench user number (users without history are absent).
    func historyCounts() throws -> [Int: Int] {
        let r = try BenchProcess.run("/usr/bin/ldapsearch", [
            "-x", "-LLL", "-o", "ldif-wrap=no", "-H", uri, "-D", facts["ADMIN_DN"]!, "-y", facts["ADMIN_PASSWORD_FILE"]!,
            "-z", "0", "-b", "ou=bench,\(baseDN)", "(objectClass=inetOrgPerson)", "uid", "pwdHistory",
        ])
        guard r.status == 0 else { throw BenchError.failed("ldapsearch pwdHistory: \(r.stderr)") }
        var counts: [Int: Int] = [:]
        var current: Int?
        for line in r.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("uid: bench") { current = Int(line.dropFirst(10)) }
            else if line.hasPrefix("pwdHistory:"), let c = current { counts[c, default: 0] += 1 }
            else if line.isEmpty { current = nil }
        }
        return counts
    }
}
