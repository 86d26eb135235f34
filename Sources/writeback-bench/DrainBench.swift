import Foundation
import WritebackCore
import WritebackDaemon
import WritebackPolicy
#if canImport(Glibc)
import Glibc
#endif

/// `writeback-bench drain` (issue 13): the whole release daemon doing its job against a slapd
/// started here, beside baselines measured in the same run on the same server:
///   A  — C over libldap doing the daemon's per-user directory work (search with the daemon's
///        filter and attributes, Password Modify with the ppolicy control), 4 StartTLS threads;
///   A1 — the Password Modify alone (the raw limit);
///   B  — one `ldappasswd -ZZ` process per reset.
/// Then: drains at several N (cost per request from 1k to 100k), the default policy (history
/// 24: one scrypt per reset) against cores ÷ one derivation's time, enqueue→written latency for
/// requests arriving one at a time, and one round with slapd's fsync on. Every contender
/// resets untouched users, so pwdHistory and cache states match. Prints a table with the goals
/// and writes it as JSON under bench/results/.
struct DrainBench {
    var requests = 10_000
    var scales = [1_000, 10_000]
    var latencyRequests = 100
    var historyRequests = 200
    var fsyncRequests = 2_000
    var ldappasswdUsers = 200
    var connections = 4
    var binDir = ""
    var resultsDir = "bench/results"

    /// Hands out consecutive blocks of untouched bench users.
    struct UserBlocks {
        var next = 1
        mutating func take(_ n: Int) -> ClosedRange<Int> { defer { next += n }; return next...(next + max(1, n) - 1) }
    }

    /// How many times a scale is drained: a drain shorter than the main one (1,000 requests
    /// take about a second) swung from 1.1 to 2.0 ms per request between runs on this host, so
    /// its median of three is what the cost ratio compares.
    static func repeats(scale: Int, main: Int) -> Int { scale < main ? 3 : 1 }

    func run() async throws {
        let root = DirectoryBench.repositoryRoot()
        let dir = try BenchProcess.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let loadBefore = LoadAverage.read()
        let half = max(1, requests / 2)
        let otherScales = scales.filter { $0 != requests }
        let warm = 2 * connections
        let runs = 2 + otherScales.reduce(0) { $0 + Self.repeats(scale: $1, main: requests) } + (historyRequests > 0 ? 1 : 0)
        let total = 1_000 + 4 * half + 2 * requests + otherScales.reduce(0) { $0 + $1 * Self.repeats(scale: $1, main: requests) }
            + historyRequests + latencyRequests + ldappasswdUsers + runs * warm
        print("== drain ==  (load average \(loadBefore))")
        print("starting slapd (ppolicy, dbnosync) with \(total) users …")
        let slapd = try BenchSlapd(root: root, dir: dir + "/slapd", users: total, dbnosync: true)
        defer { slapd.stop() }
        let cc = try BenchProcess.run("/usr/bin/cc", ["-O2", "-o", "\(dir)/drain_bench", "\(root)/scripts/bench/drain_bench.c", "-lldap", "-llber", "-lpthread"])
        guard cc.status == 0 else { throw BenchError.failed("cc: \(cc.stderr)") }
        let c = CBaseline(exe: "\(dir)/drain_bench", slapd: slapd, connections: connections)
        let drains = DrainRun(binary: binDir + "/writebackd", parent: dir, slapd: slapd)
        var blocks = UserBlocks()

        // Warm-up, then the baselines in mirrored order around the main drain, so the server's
        // drift cancels: A, A1, writebackd, A1, A.
        _ = try c.run("pm", blocks.take(1_000), tag: "w")
        let a1 = try c.run("full", blocks.take(half), tag: "a1")
        let p1 = try c.run("pm", blocks.take(half), tag: "p1")
        var noHistory = DrainSetup.Options()
        noHistory.connections = connections
        print("draining \(requests) requests (history off) …")
        let main = try await drains.run(name: "drain-\(requests)", users: blocks.take(requests), warmUsers: blocks.take(warm), options: noHistory,
                                        latencyUsers: latencyRequests > 0 ? blocks.take(latencyRequests) : nil)
        let p2 = try c.run("pm", blocks.take(half), tag: "p2")
        let a2 = try c.run("full", blocks.take(half), tag: "a2")
        let aRate = (a1 + a2) / 2, pmRate = (p1 + p2) / 2
        // The same drain with one request per connection in flight (round 1's pipeline), so
        // the pipeline depth's gain is a ratio measured in this run.
        var shallow = noHistory
        shallow.environment = ["WRITEBACKD_REQUESTS_PER_CONNECTION": "1"]
        print("draining \(requests) requests (history off, 1 request per connection) …")
        let depth1 = try await drains.run(name: "drain-\(requests)-depth1", users: blocks.take(requests), warmUsers: blocks.take(warm),
                                          options: shallow)

        var byScale: [Int: DrainRun.Result] = [requests: main]
        var spread: [Int: [Double]] = [:]
        for n in otherScales.sorted() {
            let repeats = Self.repeats(scale: n, main: requests)
            var results: [DrainRun.Result] = []
            for k in 1...repeats {
                print("draining \(n) requests (history off)\(repeats > 1 ? ", run \(k) of \(repeats)" : "") …")
                results.append(try await drains.run(name: repeats > 1 ? "drain-\(n)-run\(k)" : "drain-\(n)", users: blocks.take(n), warmUsers: blocks.take(warm), options: noHistory))
            }
            results.sort { $0.cost < $1.cost }
            byScale[n] = results[results.count / 2]
            spread[n] = results.map(\.cost)
        }

        var defaults = DrainSetup.Options()
        defaults.connections = connections
        defaults.historyCount = nil      // the default: 24, one scrypt derivation per reset
        defaults.throttlePerHour = nil
        var history: DrainRun.Result?
        if historyRequests > 0 {
            print("draining \(historyRequests) requests (default policy: history 24, scrypt) …")
            history = try await drains.run(name: "drain-default-policy", users: blocks.take(historyRequests), warmUsers: blocks.take(warm), options: defaults)
        }
        let scrypt = Self.scryptSeconds()
        let cores = ProcessInfo.processInfo.activeProcessorCount

        let bRate = ldappasswdUsers > 0 ? try c.ldappasswd(blocks.take(ldappasswdUsers)) : 0
        let loadMid = LoadAverage.read()
        slapd.stop()

        // fsync on: the disk decides; ratios in one run.
        var fsync: (a: Double, pm: Double, drain: DrainRun.Result)?
        if fsyncRequests > 0 {
            print("fsync round: slapd without dbnosync, \(fsyncRequests) requests per contender …")
            let fs = try BenchSlapd(root: root, dir: dir + "/slapd-fsync", users: 500 + 3 * fsyncRequests + warm, dbnosync: false)
            defer { fs.stop() }
            let cf = CBaseline(exe: "\(dir)/drain_bench", slapd: fs, connections: connections)
            var fb = UserBlocks()
            _ = try cf.run("pm", fb.take(500), tag: "fw")
            let fa = try cf.run("full", fb.take(fsyncRequests), tag: "fa")
            let fp = try cf.run("pm", fb.take(fsyncRequests), tag: "fp")
            let fd = try await DrainRun(binary: binDir + "/writebackd", parent: dir, slapd: fs)
                .run(name: "drain-fsync", users: fb.take(fsyncRequests), warmUsers: fb.take(warm), options: noHistory)
            fsync = (fa, fp, fd)
        }
        let loadAfter = LoadAverage.read()

        // The table.
        let build = binDir.contains("/release") ? "release" : "DEBUG"
        let ratioA = main.rate / aRate, ratioA1 = main.rate / pmRate, ratioB = bRate > 0 ? main.rate / bRate : 0
        print("")
        print("\(requests) resets per contender, \(connections) StartTLS connections, slapd dbnosync + ppolicy {SSHA}; load \(loadBefore) → \(loadMid)")
        print(String(format: "  A   C: search + Password Modify           %8.0f resets/s  (runs %.0f, %.0f)", aRate, a1, a2))
        print(String(format: "  A1  C: Password Modify alone              %8.0f resets/s  (runs %.0f, %.0f)", pmRate, p1, p2))
        print(String(format: "  B   ldappasswd -ZZ, one process per reset %8.0f resets/s  (%d users)", bRate, ldappasswdUsers))
        print("  writebackd \(build)" + String(format: ", %6d queued        %8.0f resets/s  %.2f s; CPU %.2f s per 1,000; peak RSS %.1f MiB",
                     requests, main.rate, main.seconds, main.cpuPer1000, main.peakRSSMiB))
        print(String(format: "    the daemon's mean per request, ms: pick-up (created_at → claimed) %.1f, then ", main.split.pickup * 1000) + main.split.line)
        print(String(format: "  writebackd, 1 request per connection     %8.0f resets/s  CPU %.2f s per 1,000; %d per connection: %.2fx",
                     depth1.rate, depth1.cpuPer1000, Self.requestsPerConnection, main.rate / depth1.rate))
        print(String(format: "  writebackd / A  = %.2f  (goal >= 0.80)", ratioA) + "  " + Self.verdict(ratioA >= 0.8))
        print(String(format: "  writebackd / A1 = %.2f  (goal >= 0.50)", ratioA1) + "  " + Self.verdict(ratioA1 >= 0.5))
        print(String(format: "  writebackd / B  = %.1f  (goal >= 40)  ", ratioB) + "  " + Self.verdict(ratioB >= 40))
        if let l = main.latency {
            print(String(format: "  enqueue→written, %d requests one at a time: p50 %.1f ms, p99 %.1f ms, max %.1f ms (poll interval: default 500 ms)",
                         l.samples.count, l.p50 * 1000, l.p99 * 1000, l.max * 1000))
        }
        let smallest = scales.min() ?? requests
        let base = byScale[smallest]!
        print("  cost per request (history off):")
        for n in byScale.keys.sorted() {
            let r = byScale[n]!
            let runs = (spread[n]?.count ?? 0) > 1 ? " (median of " + spread[n]!.map { String(format: "%.3f", $0 * 1000) }.joined(separator: ", ") + ")" : ""
            print(String(format: "    N = %6d: %.3f ms/request wall, CPU %.2f s per 1,000, %.0f resets/s, peak RSS %.1f MiB, %.2fx N = %d",
                         n, r.cost * 1000, r.cpuPer1000, r.rate, r.peakRSSMiB, r.cost / base.cost, smallest) + runs)
        }
        let largest = byScale.keys.max()!
        let growth = byScale[largest]!.cost / base.cost
        print(String(format: "  cost N = %d / N = %d = %.2f  (goal <= 1.20)", largest, smallest, growth) + "  " + Self.verdict(growth <= 1.2))
        var historyGoal = 0.0, historyRatio = 0.0
        if let h = history {
            historyGoal = 0.8 * Double(cores) / scrypt
            historyRatio = h.rate / (Double(cores) / scrypt)
            print(String(format: "  default policy (history 24, scrypt %.0f ms, %d cores): %.1f resets/s; %.2f x cores/scrypt (goal >= 0.80, i.e. >= %.1f/s)",
                         scrypt * 1000, cores, h.rate, historyRatio, historyGoal) + "  " + Self.verdict(h.rate >= historyGoal))
        }
        if let f = fsync {
            print(String(format: "  fsync on: A %.0f/s, A1 %.0f/s, writebackd %.0f/s (%.2fx A, %.2fx A1)",
                         f.a, f.pm, f.drain.rate, f.drain.rate / f.a, f.drain.rate / f.pm))
        }
        let failures = ([main, depth1] + byScale.values + [history, fsync?.drain].compactMap { $0 }).map(\.notSucceeded).reduce(0, +)
        print("  rows not succeeded: \(failures); load average after: \(loadAfter)")

        var json: [String: Any] = [
            "bench": "drain", "date": RFC3339Now.string(), "commit": Self.gitCommit(root: root),
            "load_average": ["before": loadBefore, "middle": loadMid, "after": loadAfter],
            "connections": connections, "cores": cores, "build": build,
            "baselines": ["A_search_and_password_modify": ["resets_per_s": aRate, "runs": [a1, a2]],
                          "A1_password_modify": ["resets_per_s": pmRate, "runs": [p1, p2]],
                          "B_ldappasswd_per_reset": ["resets_per_s": bRate, "users": ldappasswdUsers]],
            "writebackd": main.json,
            "writebackd_one_request_per_connection": depth1.json,
            "depth_gain": main.rate / depth1.rate,
            "ratios": ["writebackd_over_A": ratioA, "writebackd_over_A1": ratioA1, "writebackd_over_B": ratioB,
                       "cost_largest_over_smallest": growth],
            "goals": ["writebackd_over_A": 0.8, "writebackd_over_A1": 0.5, "writebackd_over_B": 40.0,
                      "cost_largest_over_smallest": 1.2, "default_policy_over_cores_per_scrypt": 0.8],
            "scales": byScale.keys.sorted().map { byScale[$0]!.json },
            "scrypt_seconds": scrypt, "rows_not_succeeded": failures,
        ]
        if let h = history { json["default_policy"] = h.json.merging(["over_cores_per_scrypt": historyRatio]) { a, _ in a } }
        if let f = fsync {
            json["fsync"] = ["A_resets_per_s": f.a, "A1_resets_per_s": f.pm, "writebackd": f.drain.json,
                             "writebackd_over_A": f.drain.rate / f.a, "writebackd_over_A1": f.drain.rate / f.pm]
        }
        let path = try BenchResults.write(json, kind: "drain", under: resultsDir)
        print("results: \(path)")
        if failures > 0 { throw BenchError.failed("\(failures) rows did not succeed") }
    }

    static func verdict(_ ok: Bool) -> String { ok ? "met" : "MISSED" }

    /// The main drain's pipeline depth, for the table, as the daemon reads it.
    static var requestsPerConnection: Int { PipelineDepth.perConnection(environment: ProcessInfo.processInfo.environment) }

    /// One scrypt derivation (the history's parameters), the median of five, in this release build.
    static func scryptSeconds() -> Double {
        let hasher = PasswordHistoryHasher()
        let salt = PasswordHistoryHasher.makeSalt()
        var times: [Double] = []
        for _ in 0..<5 {
            let t = ContinuousClock.now
            _ = try? hasher.derive(password: Secret("Sc9-bench-password"), salt: salt)
            times.append((ContinuousClock.now - t).timeInterval)
        }
        return times.sorted()[2]
    }

    static func gitCommit(root: String) -> String {
        ((try? BenchProcess.run("/usr/bin/git", ["-C", root, "rev-parse", "--short", "HEAD"]))?.stdout ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The C baselines (scripts/bench/drain_bench.c) and the ldappasswd loop on one slapd.
struct CBaseline {
    let exe: String
    let slapd: BenchSlapd
    let connections: Int

    /// `mode` full (search + Password Modify) or pm (Password Modify alone); resets/s.
    func run(_ mode: String, _ users: ClosedRange<Int>, tag: String) throws -> Double {
        let r = try BenchProcess.run(exe, [mode, slapd.uri, slapd.caFile, slapd.bindDN, slapd.bindPasswordFile, slapd.baseDN,
                                           "\(users.lowerBound)", "\(users.count)", "\(connections)", tag])
        guard r.status == 0, let rate = r.stdout.split(separator: " ").first(where: { $0.hasPrefix("rate=") })
            .flatMap({ Double($0.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) })
        else { throw BenchError.failed("drain_bench \(mode): \(r.stdout) \(r.stderr)") }
        return rate
    }

    /// One `ldappasswd -ZZ` process per reset (StartTLS, as the others); resets/s.
    func ldappasswd(_ users: ClosedRange<Int>) throws -> Double {
        let newPw = slapd.dir + "/secrets/ldappasswd-new"
        _ = FileManager.default.createFile(atPath: newPw, contents: Data("Lp9-d1-x".utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(atPath: newPw) }
        setenv("LDAPTLS_CACERT", slapd.caFile, 1)
        defer { unsetenv("LDAPTLS_CACERT") }
        let start = ContinuousClock.now
        for i in users {
            let r = try BenchProcess.run("/usr/bin/ldappasswd", ["-ZZ", "-x", "-H", slapd.uri, "-D", slapd.bindDN, "-y", slapd.bindPasswordFile,
                                                                 "-T", newPw, slapd.dn(i)])
            guard r.status == 0 else { throw BenchError.failed("ldappasswd: \(r.stderr)") }
        }
        return Double(users.count) / (ContinuousClock.now - start).timeInterval
    }
}

/// `/proc/loadavg`'s three figures, as printed beside every measurement.
enum LoadAverage {
    static func read() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "")
            .split(separator: " ").prefix(3).joined(separator: " ")
    }
}

enum RFC3339Now {
    static func string() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }
}

/// Writes one run's figures as JSON: `<dir>/<kind>-<UTC time>.json` and `<dir>/<kind>-latest.json`.
enum BenchResults {
    static func write(_ object: [String: Any], kind: String, under dir: String) throws -> String {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        let stamp = RFC3339Now.string().replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "")
        let path = "\(dir)/\(kind)-\(stamp).json"
        try data.write(to: URL(fileURLWithPath: path))
        try data.write(to: URL(fileURLWithPath: "\(dir)/\(kind)-latest.json"))
        return path
    }
}
