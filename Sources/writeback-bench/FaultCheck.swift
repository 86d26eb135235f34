import Foundation

/// What a fault scenario must leave behind, checked against the queue file, slapd and the
/// daemon's files: every row terminal; every good request succeeded (else "lost"), its user
/// written exactly once (pwdHistory grew by one; more is "applied twice", none is "not
/// applied") and its password binds (else "not applied"); every hostile row rejected with its
/// code and its victim untouched; no password bytes in the log, queue, state store or outbox,
/// and no terminal row still sealed or signed ("leaked").
struct FaultCheck {
    struct Report: Sendable {
        var scenario: String
        var requests: Int
        var lost = 0
        var appliedTwice = 0
        var notApplied = 0
        var leaked = 0
        var hostileWrong = 0
        var seconds = 0.0
        var notes: [String] = []
        var problems: [String] = []
        var ok: Bool { lost == 0 && appliedTwice == 0 && notApplied == 0 && leaked == 0 && hostileWrong == 0 && problems.isEmpty }

        var json: [String: Any] {
            ["scenario": scenario, "requests": requests, "lost": lost, "applied_twice": appliedTwice, "not_applied": notApplied,
             "leaked": leaked, "hostile_misjudged": hostileWrong, "seconds": seconds, "notes": notes, "problems": problems, "ok": ok]
        }
    }

    /// A good request: its row id, bench user number and password.
    struct Good: Sendable { var id: String; var user: Int; var password: String }
    /// A hostile row: its row id, the code it must get, and the user it names (nil: none real).
    struct Bad: Sendable { var id: String; var expected: String; var kind: String; var victim: Int? }

    let slapd: BenchSlapd
    let setup: DrainSetup
    let bindChecker: String

    /// `historyBefore`: pwdHistory counts before the scenario; each good user gets exactly one
    /// request; victims none that may write.
    func check(_ report: inout Report, good: [Good], bad: [Bad] = [], historyBefore: [Int: Int], extraWrites: [Int: Int] = [:]) throws {
        let probe = try QueueProbe(path: setup.queuePath)
        let rows = try probe.rows()
        let open = rows.values.filter { $0.state == "pending" || $0.state == "in_progress" }.count
        if open > 0 { report.problems.append("\(open) rows not terminal") }

        let after = try slapd.historyCounts()
        var binds: [Good] = []
        for g in good {
            let delta = (after[g.user] ?? 0) - (historyBefore[g.user] ?? 0) - (extraWrites[g.user] ?? 0)
            guard let row = rows[g.id], row.state == "succeeded" else {
                report.lost += 1
                if report.problems.count < 8 { report.problems.append("lost \(g.id): \(rows[g.id].map { "\($0.state) \($0.outcome ?? "") \($0.detail ?? "")" } ?? "no row")") }
                continue
            }
            if delta > 1 { report.appliedTwice += 1 }
            else if delta < 1 { report.notApplied += 1 }
            binds.append(g)
        }
        // Every succeeded password binds (one StartTLS connection, passwords through a pipe).
        if !binds.isEmpty {
            let input = binds.map { "\(slapd.dn($0.user))\t\($0.password)\n" }.joined()
            let r = try BenchProcess.run(bindChecker, ["bind", slapd.uri, slapd.caFile], input: Data(input.utf8))
            let failed = r.stderr.split(separator: "\n").filter { $0.hasPrefix("bind failed") }.count
            if r.status != 0 && failed == 0 { report.problems.append("bind check: \(r.stdout) \(r.stderr.prefix(300))") }
            report.notApplied += failed
        }

        var hostileGot: [String: Int] = [:]
        var victims = Set<Int>()
        for b in bad {
            let row = rows[b.id]
            let got = row?.outcome ?? row?.state ?? "no row"
            if row?.state != "rejected" || got != b.expected {
                report.hostileWrong += 1
                if report.problems.count < 8 { report.problems.append("\(b.kind) → \(got) \(row?.detail ?? ""), expected rejected/\(b.expected)") }
            }
            hostileGot[b.kind, default: 0] += 1
            if let v = b.victim { victims.insert(v) }
        }
        // A victim was written if its history changed, or its original password no longer binds.
        let written = victims.filter { (after[$0] ?? 0) != (historyBefore[$0] ?? 0) }
        if !written.isEmpty { report.problems.append("\(written.count) users named only by hostile rows were written") }
        if !victims.isEmpty, let original = slapd.facts["BENCH_PASSWORD_FILE"].flatMap({ try? String(contentsOfFile: $0, encoding: .utf8) }) {
            let input = victims.sorted().map { "\(slapd.dn($0))\t\(original)\n" }.joined()
            let r = try BenchProcess.run(bindChecker, ["bind", slapd.uri, slapd.caFile], input: Data(input.utf8))
            if r.status != 0 { report.problems.append("users named only by hostile rows no longer bind with their password: \(r.stderr.prefix(300))") }
        }
        if !bad.isEmpty {
            report.notes.append("hostile rows by kind: " + hostileGot.keys.sorted().map { "\($0) \(hostileGot[$0]!)" }.joined(separator: ", "))
        }

        // Leaks: password bytes in any file, or a terminal row still holding sealed values.
        let files = setup.filesHoldingPasswords()
        let sealed = rows.values.filter { ["succeeded", "rejected", "failed"].contains($0.state) && (!$0.signature.isEmpty || $0.payload.contains("\"ct\"")) }
        report.leaked = files.count + sealed.count
        if !files.isEmpty { report.problems.append("password bytes in \(files.map { ($0 as NSString).lastPathComponent })") }
        if !sealed.isEmpty { report.problems.append("\(sealed.count) terminal rows still sealed or signed") }
    }
}
