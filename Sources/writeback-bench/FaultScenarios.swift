import Foundation
import GRDB
import RequestCodec
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// The fault scenarios of `make faults`, each on its own daemon world (queue, state store,
/// outbox) and its own untouched users of the shared slapd; each returns FaultCheck's report.
struct FaultScenarios {
    let binary: String
    let parent: String
    let slapd: BenchSlapd
    let bindChecker: String

    /// Short lease and poll, so a killed daemon's rows come back soon (a dead owner's rows are
    /// freed at once anyway); no history (scrypt would make a 10,000-row drain take minutes).
    var options: DrainSetup.Options {
        var o = DrainSetup.Options()
        o.pollIntervalMs = 100
        o.leaseSeconds = 7   // must exceed twice the timeout
        o.maxAttempts = 10
        o.timeoutSeconds = 3
        return o
    }

    struct Prepared {
        var setup: DrainSetup
        var good: [FaultCheck.Good]
        var probe: QueueProbe
    }

    /// A daemon world with one queued reset per user.
    func prepare(_ name: String, users: ClosedRange<Int>, options: DrainSetup.Options? = nil) async throws -> Prepared {
        let setup = try DrainSetup(parent: parent, name: name, slapd: slapd, options: options ?? self.options)
        let (rows, passwords) = try setup.resetRows(users: users)
        try await setup.queue().enqueue(batch: rows)
        let good = zip(rows, users).map { FaultCheck.Good(id: $0.id, user: $1, password: passwords[$1]!) }
        return Prepared(setup: setup, good: good, probe: try QueueProbe(path: setup.queuePath))
    }

    /// Waits until at least `count` of `total` rows are terminal; false after `timeout`.
    func waitTerminal(_ probe: QueueProbe, atLeast count: Int, total: Int, timeout: TimeInterval = 300) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try total - probe.openCount() >= count { return true }
            try await Task.sleep(for: .milliseconds(2))
        }
        return false
    }

    func checker(_ setup: DrainSetup) -> FaultCheck { FaultCheck(slapd: slapd, setup: setup, bindChecker: bindChecker) }

    func drainTimeout(_ n: Int) -> TimeInterval { 300 + Double(n) / 20 }

    func errorLines(_ setup: DrainSetup) -> Int {
        ((try? String(contentsOfFile: setup.logPath, encoding: .utf8)) ?? "").components(separatedBy: "\"level\":\"error\"").count - 1
    }

    /// Lines of the daemon's log that say a readback found an interrupted write applied, and
    /// error lines (what the fault made the daemon see).
    func recoveredWrites(_ setup: DrainSetup) -> String {
        let log = (try? String(contentsOfFile: setup.logPath, encoding: .utf8)) ?? ""
        let errors = log.split(separator: "\n").filter { $0.contains("\"level\":\"error\"") }
        let sample = errors.first.map { line -> String in
            guard let r = line.range(of: "\"msg\":\"") else { return "" }
            return "; e.g. \"" + String(line[r.upperBound...].prefix { $0 != "\"" }) + "\""
        } ?? ""
        return "\(log.components(separatedBy: "already applied").count - 1); error lines in the daemon's log: \(errors.count)\(sample)"
    }

    // MARK: scenarios

    /// SIGKILL at `kills` random moments (random completion counts) during the drain;
    /// a new daemon is started after each.
    func sigkills(users: ClosedRange<Int>, kills: Int) async throws -> FaultCheck.Report {
        let t0 = Date()
        let before = try slapd.historyCounts()
        let p = try await prepare("sigkill", users: users)
        var report = FaultCheck.Report(scenario: "SIGKILL x\(kills) during a drain", requests: users.count)
        let targets = (0..<kills).map { _ in Int.random(in: 1..<max(2, users.count)) }.sorted()
        var daemon = try DaemonRunner(binary: binary, setup: p.setup)
        var killedAt: [Int] = []
        for target in targets {
            try await daemon.waitReady()
            guard try await waitTerminal(p.probe, atLeast: target, total: users.count) else {
                report.problems.append("drain stalled before \(target) terminal rows"); break
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...20)))
            killedAt.append(users.count - (try p.probe.openCount()))
            daemon.stop(SIGKILL, grace: 5)
            daemon = try DaemonRunner(binary: binary, setup: p.setup)
        }
        let drained = try await p.probe.waitDrained(timeout: drainTimeout(users.count))
        daemon.stop()
        if !drained { report.problems.append("not drained") }
        report.notes.append("killed at \(killedAt.map(String.init).joined(separator: ", ")) terminal rows; readbacks that found the write applied: \(recoveredWrites(p.setup))")
        try checker(p.setup).check(&report, good: p.good, historyBefore: before)
        report.seconds = Date().timeIntervalSince(t0)
        return report
    }

    /// slapd SIGSTOPped for `seconds` once a third is done, then continued.
    func slapdStopped(users: ClosedRange<Int>, seconds: Int) async throws -> FaultCheck.Report {
        try await midDrain("slapd SIGSTOP \(seconds) s", name: "sigstop", users: users) { _ in
            slapd.pause()
            try await Task.sleep(for: .seconds(seconds))
            slapd.resume()
        }
    }

    /// slapd SIGKILLed once a third is done and started again on the same port and data.
    func slapdRestarted(users: ClosedRange<Int>) async throws -> FaultCheck.Report {
        try await midDrain("slapd killed and restarted", name: "restart", users: users) { _ in
            try slapd.restart()
        }
    }

    /// The queue's filesystem (a tmpfs sized for it) filled once a third is done, held full
    /// for `holdSeconds`, then freed.
    func queueFilesystemFull(users: ClosedRange<Int>, holdSeconds: Int) async throws -> FaultCheck.Report {
        let mount = parent + "/queue-fs"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        let sizeMB = max(16, users.count * 6 / 1000)
        let m = try BenchProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(sizeMB)m,mode=0700", "tmpfs", mount])
        guard m.status == 0 else {
            var r = FaultCheck.Report(scenario: "queue filesystem full", requests: 0)
            r.notes.append("skipped: cannot mount a tmpfs (\(m.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); needs root")
            return r
        }
        defer { _ = try? BenchProcess.run("/bin/umount", ["-l", mount]) }
        var o = options
        o.queueDir = mount
        var filled = 0
        var bit = false
        let report = try await midDrain("queue filesystem full \(holdSeconds) s", name: "fsfull", users: users, options: o) { p in
            // An empty WAL first, so the daemon's next commit needs new blocks.
            var config = Configuration()
            config.busyMode = .timeout(10)
            if let db = try? DatabaseQueue(path: p.setup.queuePath, configuration: config) {
                try? await db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            }
            let filler = mount + "/filler"
            _ = FileManager.default.createFile(atPath: filler, contents: nil)
            if let h = FileHandle(forWritingAtPath: filler) {
                let chunk = Data(count: 64 * 1024)
                while (try? h.write(contentsOf: chunk)) != nil { filled += chunk.count }
                try? h.close()
            }
            // Writes into WAL pages SQLite already has need no new blocks: hold the disk full
            // for `holdSeconds`, and longer (up to 30 s) until the daemon has met the full disk.
            let start = Date()
            try await Task.sleep(for: .seconds(holdSeconds))
            while Date().timeIntervalSince(start) < 30 && errorLines(p.setup) == 0 { try await Task.sleep(for: .milliseconds(100)) }
            bit = errorLines(p.setup) > 0
            try FileManager.default.removeItem(atPath: filler)
        }
        var r = report
        r.notes.append("tmpfs \(sizeMB) MiB; filled with \(filled / 1024) KiB until ENOSPC, held \(holdSeconds) s or until the daemon met it, then freed; the daemon \(bit ? "met the full disk" : "never met the full disk (no error within 30 s)")")
        return r
    }

    /// Starts a daemon, runs `fault` once a third of the rows is terminal, then drains.
    func midDrain(_ title: String, name: String, users: ClosedRange<Int>, options: DrainSetup.Options? = nil,
                  fault: (Prepared) async throws -> Void) async throws -> FaultCheck.Report {
        let t0 = Date()
        let before = try slapd.historyCounts()
        let p = try await prepare(name, users: users, options: options)
        var report = FaultCheck.Report(scenario: title, requests: users.count)
        let daemon = try DaemonRunner(binary: binary, setup: p.setup)
        defer { daemon.stop() }
        try await daemon.waitReady()
        if try await waitTerminal(p.probe, atLeast: users.count / 3, total: users.count) {
            let at = users.count - (try p.probe.openCount())
            try await fault(p)
            report.notes.append("fault at \(at) terminal rows")
        } else {
            report.problems.append("drain stalled before the fault")
        }
        let drained = try await p.probe.waitDrained(timeout: drainTimeout(users.count))
        daemon.stop()
        if !drained { report.problems.append("not drained") }
        report.notes.append("readbacks that found the write applied: \(recoveredWrites(p.setup))")
        try checker(p.setup).check(&report, good: p.good, historyBefore: before)
        report.seconds = Date().timeIntervalSince(t0)
        return report
    }

    /// `hostile` hostile rows (every kind in HostileRows, plus replays of finished requests)
    /// shuffled among one good reset per user of `good`.
    func hostile(hostile count: Int, good goodUsers: ClosedRange<Int>, victims: ClosedRange<Int>,
                 replayUsers: ClosedRange<Int>) async throws -> FaultCheck.Report {
        let t0 = Date()
        let setup = try DrainSetup(parent: parent, name: "hostile", slapd: slapd, options: options)
        let queue = try setup.queue()
        let daemon = try DaemonRunner(binary: binary, setup: setup)
        defer { daemon.stop() }
        try await daemon.waitReady()
        let probe = try QueueProbe(path: setup.queuePath)

        // Replays: requests the daemon finished, purged by the portal, then inserted again.
        let (originals, _) = try setup.resetRows(users: replayUsers)
        try await queue.enqueue(batch: originals)
        _ = try await probe.waitDrained(timeout: 300)
        var writerConfig = Configuration()
        writerConfig.busyMode = .timeout(30)   // the daemon holds the write lock now and then
        let writer = try DatabaseQueue(path: setup.queuePath, configuration: writerConfig)
        try await writer.write { db in
            for row in originals { try db.execute(sql: "DELETE FROM reset_requests WHERE id = ?", arguments: [row.id]) }
        }
        let before = try slapd.historyCounts()

        let (goodRows, passwords) = try setup.resetRows(users: goodUsers)
        let good = zip(goodRows, goodUsers).map { FaultCheck.Good(id: $0.id, user: $1, password: passwords[$1]!) }
        let maker = HostileRows(setup: setup)
        var bad: [FaultCheck.Bad] = []
        var rows = goodRows + originals
        bad += originals.map { FaultCheck.Bad(id: $0.id, expected: "replayed", kind: "replayed", victim: nil) }
        let victimList = Array(victims)
        for n in 0..<max(0, count - originals.count) {
            let victim = victimList[n % victimList.count]
            let h = try maker.make(n, victim: victim, donor: goodRows[n % goodRows.count])
            rows.append(h.row)
            bad.append(FaultCheck.Bad(id: h.row.id, expected: h.expected, kind: h.kind, victim: h.kind == "filter_injection" ? nil : victim))
        }
        rows.shuffle()
        try await queue.enqueue(batch: rows)
        let drained = try await probe.waitDrained(timeout: drainTimeout(rows.count))
        daemon.stop()
        var report = FaultCheck.Report(scenario: "\(bad.count) hostile + \(good.count) good rows", requests: rows.count)
        if !drained { report.problems.append("not drained") }
        try checker(setup).check(&report, good: good, bad: bad, historyBefore: before)
        let after = try slapd.historyCounts()
        let rewritten = replayUsers.filter { (after[$0] ?? 0) != (before[$0] ?? 0) }
        if !rewritten.isEmpty { report.problems.append("\(rewritten.count) replayed requests were written again") }
        report.seconds = Date().timeIntervalSince(t0)
        return report
    }
}
