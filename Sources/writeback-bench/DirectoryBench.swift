import Foundation
import LDAPDirectory
import Logging
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// `writeback-bench directory`: resets through the LDAPDirectory pool against a throwaway
/// slapd (ppolicy, `dbnosync`), beside the same run's rate of a tiny C program doing
/// Password Modify over libldap on as many threads, and of an `ldappasswd` loop. Exists to
/// show what the Swift layer costs over raw libldap (goal: ≥ 0.8× C at 4 connections).
/// Each contender resets its own, untouched users, so history and cache states match.
struct DirectoryBench {
    var users = 3000
    var connections = 4
    var ldappasswdUsers = 200

    func run() async throws {
        let root = Self.repositoryRoot()
        let dir = try BenchProcess.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let total = 8 * users + ldappasswdUsers
        print("== directory ==")
        print("starting slapd (ppolicy, dbnosync) with \(total) users …")
        let start = try BenchProcess.run("/bin/bash", ["\(root)/scripts/testenv/slapd.sh", "start", "\(dir)/slapd",
                                                       "--users", "\(total)", "--dbnosync", "--watch-pid", "\(getpid())"])
        guard start.status == 0 else { throw BenchError.failed("slapd.sh: \(start.stderr)") }
        let facts = Dictionary(start.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let eq = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<eq]), String(line[line.index(after: eq)...]))
        }, uniquingKeysWith: { a, _ in a })
        defer { _ = try? BenchProcess.run("/bin/bash", ["\(root)/scripts/testenv/slapd.sh", "stop", "\(dir)/slapd"]) }
        let uri = facts["URI"]!, bindDN = facts["BIND_DN"]!, pwFile = facts["BIND_PASSWORD_FILE"]!
        let dnFormat = "uid=bench%05d,ou=bench,\(facts["BASE_DN"]!)"
        let baseDN = facts["BASE_DN"]!
        let dn: @Sendable (Int) -> String = { i in "uid=bench\(String(repeating: "0", count: max(0, 5 - String(i).count)))\(i),ou=bench,\(baseDN)" }

        // Raw C, compiled now.
        let cc = try BenchProcess.run("/usr/bin/cc", ["-O2", "-o", "\(dir)/passwd_bench", "\(root)/scripts/bench/passwd_bench.c",
                                                       "-lldap", "-llber", "-lpthread"])
        guard cc.status == 0 else { throw BenchError.failed("cc: \(cc.stderr)") }
        func runC(from first: Int, tag: String) throws -> Double {
            let c = try BenchProcess.run("\(dir)/passwd_bench", [uri, bindDN, pwFile, dnFormat, "\(first)", "\(users)", "\(connections)", tag])
            guard c.status == 0, let rate = c.stdout.split(separator: " ").first(where: { $0.hasPrefix("rate=") })
                .flatMap({ Double($0.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) })
            else { throw BenchError.failed("passwd_bench: \(c.stdout) \(c.stderr)") }
            return rate
        }
        // Blocks of `users` fresh entries: block k is users k*users+1 … (k+1)*users.
        func block(_ k: Int) -> ClosedRange<Int> { (k * users + 1)...((k + 1) * users) }
        var config = DirectoryConfig(flavor: .openldap, uris: [uri], baseDN: facts["BASE_DN"]!)
        config.allowPlainLoopback = true
        config.bindDN = bindDN
        config.bindPasswordFile = pwFile
        config.connections = connections
        let service = try LDAPDirectoryService(config: config, logger: Logger(label: "bench"))
        let pool = service.pool
        // Swift: the pool, one Password Modify per reset (what the C program does).
        @Sendable func reset(_ i: Int) async throws {
            let target = dn(i), pw = Secret("Sb9-b1-\(i)-x")
            _ = try await pool.withHandle(idempotent: false) { h throws(LDAPError) in
                try h.passwordModify(dn: target, oldPassword: nil, newPassword: pw, controls: [PasswordPolicyControl.request])
            }
        }
        // Pinned: op k runs as a task that prefers worker k's connection thread (the daemon's
        // workers run this way); unpinned: every task on the global pool, each call hops.
        let pinned = { (k: Int) -> (any TaskExecutor)? in pool.taskExecutor(forWorker: k) }
        func runPinned(_ k: Int) async throws -> Measurement {
            try await Self.measure(range: block(k), window: connections * 2, executor: pinned, reset)
        }
        func runHopping(_ k: Int) async throws -> Measurement {
            try await Self.measure(range: block(k), window: connections * 2, reset)
        }

        // The server's rate drifts while it warms up: one warm-up pass, then two rounds in
        // mirrored order (C, pinned, unpinned; unpinned, pinned, C); each figure is the mean.
        _ = try runC(from: block(0).lowerBound, tag: "w0")
        let c1 = try runC(from: block(1).lowerBound, tag: "b1")
        let p1 = try await runPinned(2)
        let h1 = try await runHopping(3)
        let h2 = try await runHopping(4)
        let p2 = try await runPinned(5)
        let c2 = try runC(from: block(6).lowerBound, tag: "b2")
        let cRate = (c1 + c2) / 2
        let raw = Measurement.mean(p1, p2), hopping = Measurement.mean(h1, h2)
        // Swift: the daemon's directory work for one reset with unlock: the lookup (one search)
        // and the write (Password Modify; the flags Modify only when the user is locked or
        // flagged must-change, which these users are not).
        let full = try await Self.measure(range: block(7), window: connections * 2, executor: pinned) { i in
            let uid = String(dn(i).dropFirst(4).prefix { $0 != "," })
            let user = try await service.findUser(identity: uid, groupsOfInterest: [])
            try await service.apply(PasswordWrite(kind: .reset, newPassword: Secret("Sf9-b1-\(i)-x"), oldPassword: nil,
                                                  unlock: true, mustChange: false), to: user)
        }
        await service.shutdown()

        // ldappasswd, one process per reset.
        let newPw = "\(dir)/slapd/secrets/ldappasswd-new"
        _ = FileManager.default.createFile(atPath: newPw, contents: Data("Lp9-b1-x".utf8), attributes: [.posixPermissions: 0o600])
        let lpStart = ContinuousClock.now
        for i in (8 * users + 1)...(8 * users + ldappasswdUsers) {
            let r = try BenchProcess.run("/usr/bin/ldappasswd", ["-x", "-H", uri, "-D", bindDN, "-y", pwFile, "-T", newPw, dn(i)])
            guard r.status == 0 else { throw BenchError.failed("ldappasswd: \(r.stderr)") }
        }
        let lpRate = Double(ldappasswdUsers) / (ContinuousClock.now - lpStart).timeInterval

        print("\(users) resets per run, \(connections) connections/threads, loopback ldap://, slapd dbnosync + ppolicy, {SSHA}")
        print(String(format: "  C libldap, %d threads, Password Modify        %8.0f resets/s  (runs: %.0f, %.0f)",
                     connections, cRate, c1, c2))
        print(String(format: "  Swift LDAPPool, workers pinned to connections  %8.0f resets/s  (%.2fx C)  p50 %.2f ms p99 %.2f ms  (runs: %.0f, %.0f)",
                     raw.rate, raw.rate / cRate, raw.p50 * 1000, raw.p99 * 1000, p1.rate, p2.rate))
        print(String(format: "  Swift LDAPPool, unpinned tasks (calls hop)     %8.0f resets/s  (%.2fx C)  p50 %.2f ms p99 %.2f ms  (runs: %.0f, %.0f)",
                     hopping.rate, hopping.rate / cRate, hopping.p50 * 1000, hopping.p99 * 1000, h1.rate, h2.rate))
        print(String(format: "  Swift findUser + apply (search + reset)        %8.0f resets/s  (%.2fx C)  p50 %.2f ms p99 %.2f ms",
                     full.rate, full.rate / cRate, full.p50 * 1000, full.p99 * 1000))
        print(String(format: "  ldappasswd, one process per reset (%d)       %8.0f resets/s", ldappasswdUsers, lpRate))
        print(String(format: "ratio Swift pool / C at %d connections: %.2f (goal >= 0.80)", connections, raw.rate / cRate))
    }

    struct Measurement {
        var rate: Double; var p50: Double; var p99: Double
        static func mean(_ a: Measurement, _ b: Measurement) -> Measurement {
            Measurement(rate: (a.rate + b.rate) / 2, p50: (a.p50 + b.p50) / 2, p99: (a.p99 + b.p99) / 2)
        }
    }

    /// Runs `op` for every index with at most `window` in flight; rate and latency percentiles.
    /// Runs `op` for every index with `window` in flight; op `k` of the window runs as a task
    /// that prefers `executor(k)` (nil: the global pool).
    static func measure(range: ClosedRange<Int>, window: Int, executor: (Int) -> (any TaskExecutor)? = { _ in nil },
                        _ op: @escaping @Sendable (Int) async throws -> Void) async throws -> Measurement {
        let start = ContinuousClock.now
        var latencies: [Double] = []
        latencies.reserveCapacity(range.count)
        try await withThrowingTaskGroup(of: Double.self) { group in
            var next = range.lowerBound
            func add() {
                let i = next
                next += 1
                group.addTask(executorPreference: executor(i)) {
                    let t = ContinuousClock.now
                    try await op(i)
                    return (ContinuousClock.now - t).timeInterval
                }
            }
            while next <= range.upperBound && next - range.lowerBound < window { add() }
            while let l = try await group.next() {
                latencies.append(l)
                if next <= range.upperBound { add() }
            }
        }
        let elapsed = (ContinuousClock.now - start).timeInterval
        latencies.sort()
        return Measurement(rate: Double(range.count) / elapsed,
                           p50: latencies[latencies.count / 2], p99: latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
    }

    static func repositoryRoot() -> String {
        let cwd = FileManager.default.currentDirectoryPath
        if FileManager.default.fileExists(atPath: cwd + "/scripts/testenv/slapd.sh") { return cwd }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
}

enum BenchError: Error, CustomStringConvertible {
    case failed(String)
    var description: String {
        switch self {
        case .failed(let m): m
        }
    }
}


/// Runs a tool to completion (posix_spawn + waitpid; output through temporary files).
enum BenchProcess {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// A new directory under `$TMPDIR` (default `/tmp`): `scripts/bench.sh` points it at a
    /// fresh journaled ext4 so the daemon's files live on what a Debian server has.
    static func tempDir() throws -> String {
        let parent = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(parent)/wbbench.XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw BenchError.failed("mkdtemp") }
        return String(cString: p)
    }

    /// `input`, when given, is written to the tool's stdin through a pipe (never a file), so
    /// secrets for a checker never touch the disk.
    static func run(_ exe: String, _ args: [String], input: Data? = nil) throws -> Result {
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var fds: [Int32] = [-1, -1]
        if input != nil {
            guard pipe(&fds) == 0 else { throw BenchError.failed("pipe") }
            // Close-on-exec, so no other child inherits the pipe (the dup2 in the child is kept).
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, tmp + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, tmp + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([exe] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, exe, &actions, nil, argv, environ)
        if let input {
            close(fds[0])
            if spawned == 0 {
                input.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
                    var off = 0
                    while off < buf.count {
                        let n = write(fds[1], buf.baseAddress! + off, buf.count - off)
                        if n < 0 { if errno == EINTR { continue }; break }
                        off += n
                    }
                }
            }
            close(fds[1])
        }
        guard spawned == 0 else { throw BenchError.failed("cannot run \(exe)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return Result(status: (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F),
                      stdout: (try? String(contentsOfFile: tmp + "/out", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: tmp + "/err", encoding: .utf8)) ?? "")
    }
}
