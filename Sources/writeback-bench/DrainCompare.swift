import Foundation

/// `writeback-bench drain-compare`: two daemon builds drained in turns against one slapd, for
/// a change whose effect is smaller than the drain's run-to-run swing on a shared host (one
/// drain of the same binary read 551–782 resets/s in one hour here). Each round drains the
/// same number of untouched users with both builds, in ABBA order (baseline first in odd
/// rounds, the candidate first in even ones), so the server's and the host's drift falls on
/// both alike. Prints every round, the medians, and candidate ÷ baseline for resets/s and for
/// CPU seconds per 1,000 requests (the steadier of the two: it is what a change of code cuts).
struct DrainCompare {
    var requests = 5_000
    var rounds = 4
    var connections = 4
    var binDir = ""
    var baselineDir = ""
    var resultsDir = "bench/results"
    /// Environment for the candidate's daemon only (`--env K=V`, repeatable): a tuning knob
    /// such as WRITEBACKD_REQUESTS_PER_CONNECTION compared on one build.
    var candidateEnvironment: [String: String] = [:]

    /// Median of a non-empty list.
    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    func run() async throws {
        let root = DirectoryBench.repositoryRoot()
        let dir = try BenchProcess.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let warm = 2 * connections
        let loadBefore = LoadAverage.read()
        print("== drain-compare ==  (load average \(loadBefore))")
        print("starting slapd (ppolicy, dbnosync) with \(2 * rounds * (requests + warm)) users …")
        let slapd = try BenchSlapd(root: root, dir: dir + "/slapd", users: 2 * rounds * (requests + warm), dbnosync: true)
        defer { slapd.stop() }
        var options = DrainSetup.Options()
        options.connections = connections
        var candidateOptions = options
        candidateOptions.environment = candidateEnvironment
        let builds = [("baseline", baselineDir), ("candidate", binDir)]
        var results: [String: [DrainRun.Result]] = ["baseline": [], "candidate": []]
        var blocks = DrainBench.UserBlocks()
        for round in 1...rounds {
            let order = round % 2 == 1 ? builds : builds.reversed()
            for (name, bin) in order {
                let r = try await DrainRun(binary: bin + "/writebackd", parent: dir, slapd: slapd)
                    .run(name: "\(name)-\(round)", users: blocks.take(requests), warmUsers: blocks.take(warm),
                         options: name == "candidate" ? candidateOptions : options)
                guard r.notSucceeded == 0 else { throw BenchError.failed("\(name), round \(round): \(r.notSucceeded) rows did not succeed") }
                results[name]!.append(r)
                print(String(format: "  round %d  %-9@  %6.0f resets/s  CPU %.2f s per 1,000  peak RSS %.1f MiB",
                             round, name as NSString, r.rate, r.cpuPer1000, r.peakRSSMiB))
            }
        }
        let base = results["baseline"]!, cand = results["candidate"]!
        let rate = (Self.median(base.map(\.rate)), Self.median(cand.map(\.rate)))
        let cpu = (Self.median(base.map(\.cpuPer1000)), Self.median(cand.map(\.cpuPer1000)))
        let loadAfter = LoadAverage.read()
        print("")
        print("\(requests) resets per drain, \(rounds) rounds, \(connections) StartTLS connections; load \(loadBefore) → \(loadAfter)")
        print(String(format: "  baseline   median %6.0f resets/s, CPU %.2f s per 1,000  (%@)", rate.0, cpu.0, baselineDir as NSString))
        let env = candidateEnvironment.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        print(String(format: "  candidate  median %6.0f resets/s, CPU %.2f s per 1,000  (%@)", rate.1, cpu.1, (binDir + env) as NSString))
        print(String(format: "  candidate / baseline: resets/s %.2fx, CPU per request %.2fx", rate.1 / rate.0, cpu.1 / cpu.0))
        for (name, runs) in [("baseline", base), ("candidate", cand)] {
            let last = runs.last!.split
            print(String(format: "  %@ (last round), the daemon's mean per request, ms: pick-up %.1f, ", name as NSString, last.pickup * 1000) + last.line)
        }
        let json: [String: Any] = [
            "bench": "drain-compare", "date": RFC3339Now.string(), "commit": DrainBench.gitCommit(root: root),
            "requests": requests, "rounds": rounds, "connections": connections,
            "load_average": ["before": loadBefore, "after": loadAfter],
            "baseline": ["bin_dir": baselineDir, "runs": base.map(\.json), "median_resets_per_s": rate.0, "median_cpu_s_per_1000": cpu.0],
            "candidate": ["bin_dir": binDir, "environment": candidateEnvironment, "runs": cand.map(\.json), "median_resets_per_s": rate.1, "median_cpu_s_per_1000": cpu.1],
            "ratios": ["resets_per_s": rate.1 / rate.0, "cpu_per_request": cpu.1 / cpu.0],
        ]
        print("results: \(try BenchResults.write(json, kind: "drain-compare", under: resultsDir))")
    }
}
