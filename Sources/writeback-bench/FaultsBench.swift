import Foundation
import GRDB
import RequestCodec
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// `writeback-bench faults` (`make faults`; `--short` in CI): the daemon against a real slapd
/// while things go wrong, and one table (scenario, requests, lost, applied twice, not applied,
/// leaked, time). Scenarios: SIGKILL at random moments during a drain, restarted each time;
/// slapd SIGSTOPped mid-drain, then continued; slapd killed and restarted mid-drain; the
/// queue's filesystem (a small tmpfs) full mid-drain, then freed; hostile rows mixed with
/// good ones. FaultCheck says what must hold after each. Exits non-zero when anything fails.
struct FaultsBench {
    var short = false
    var binDir = ""
    var resultsDir = "bench/results"
    var only: Set<String>?

    struct Sizes {
        var killDrain: Int, kills: Int, stopDrain: Int, stopSeconds: Int, restartDrain: Int
        var fullDrain: Int, fullHoldSeconds: Int, hostile: Int, good: Int, victims: Int, replays: Int
        static let full = Sizes(killDrain: 10_000, kills: 20, stopDrain: 3_000, stopSeconds: 30, restartDrain: 3_000,
                                fullDrain: 3_000, fullHoldSeconds: 10, hostile: 1_000, good: 1_000, victims: 100, replays: 100)
        static let short = Sizes(killDrain: 600, kills: 3, stopDrain: 300, stopSeconds: 5, restartDrain: 300,
                                 fullDrain: 300, fullHoldSeconds: 3, hostile: 120, good: 100, victims: 20, replays: 10)
    }

    static func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }

    func wants(_ name: String) -> Bool { only?.contains(name) ?? true }

    func run() async throws {
        let sizes = short ? Sizes.short : Sizes.full
        let root = DirectoryBench.repositoryRoot()
        let dir = try BenchProcess.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let load = LoadAverage.read()
        let users = sizes.killDrain + sizes.stopDrain + sizes.restartDrain + sizes.fullDrain + sizes.good + sizes.victims + sizes.replays + 10
        print("== faults\(short ? " (short)" : "") ==  (load average \(load)); slapd with \(users) users …")
        let slapd = try BenchSlapd(root: root, dir: dir + "/slapd", users: users, dbnosync: true)
        defer { slapd.stop() }
        let cc = try BenchProcess.run("/usr/bin/cc", ["-O2", "-o", "\(dir)/drain_bench", "\(root)/scripts/bench/drain_bench.c", "-lldap", "-llber", "-lpthread"])
        guard cc.status == 0 else { throw BenchError.failed("cc: \(cc.stderr)") }
        let scenarios = FaultScenarios(binary: binDir + "/writebackd", parent: dir, slapd: slapd, bindChecker: dir + "/drain_bench")
        var blocks = DrainBench.UserBlocks()
        var reports: [FaultCheck.Report] = []
        func record(_ r: FaultCheck.Report) {
            reports.append(r)
            print("  " + Self.pad(r.scenario, 34) + String(format: " done in %.1f s: ", r.seconds) + (r.ok ? "ok" : "FAILED \(r.problems)"))
        }
        let killUsers = blocks.take(sizes.killDrain), stopUsers = blocks.take(sizes.stopDrain)
        let restartUsers = blocks.take(sizes.restartDrain), fullUsers = blocks.take(sizes.fullDrain)
        let goodUsers = blocks.take(sizes.good), victims = blocks.take(sizes.victims), replayUsers = blocks.take(sizes.replays)
        if wants("sigkill") { record(try await scenarios.sigkills(users: killUsers, kills: sizes.kills)) }
        if wants("sigstop") { record(try await scenarios.slapdStopped(users: stopUsers, seconds: sizes.stopSeconds)) }
        if wants("restart") { record(try await scenarios.slapdRestarted(users: restartUsers)) }
        if wants("fsfull") { record(try await scenarios.queueFilesystemFull(users: fullUsers, holdSeconds: sizes.fullHoldSeconds)) }
        if wants("hostile") {
            record(try await scenarios.hostile(hostile: sizes.hostile, good: goodUsers, victims: victims, replayUsers: replayUsers))
        }

        print("")
        print("scenario                            requests   lost  applied twice  not applied  leaked   time")
        for r in reports {
            print(Self.pad(r.scenario, 34) + String(format: " %9d %6d %14d %12d %7d %6.1f s", r.requests, r.lost, r.appliedTwice,
                                                    r.notApplied, r.leaked, r.seconds))
            for n in r.notes { print("    \(n)") }
            for p in r.problems { print("    PROBLEM: \(p)") }
        }
        let loadAfter = LoadAverage.read()
        print("load average: \(load) → \(loadAfter)")
        let json: [String: Any] = ["bench": short ? "faults-short" : "faults", "date": RFC3339Now.string(),
                                   "commit": DrainBench.gitCommit(root: root), "load_average": ["before": load, "after": loadAfter],
                                   "scenarios": reports.map(\.json)]
        if !short || ProcessInfo.processInfo.environment["FAULTS_SAVE"] == "1" {
            print("results: \(try BenchResults.write(json, kind: short ? "faults-short" : "faults", under: resultsDir))")
        }
        let failed = reports.filter { !$0.ok }
        if !failed.isEmpty { throw BenchError.failed("faults: \(failed.map(\.scenario).joined(separator: ", ")) failed") }
    }
}
