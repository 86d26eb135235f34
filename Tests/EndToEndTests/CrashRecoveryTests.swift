import Foundation
import RequestCodec
import RequestQueue
import Testing
import TestSupport
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// At most once (issue 4): the daemon is SIGKILLed between the directory write and the queue
/// update; after a restart the request ends `succeeded` and slapd shows exactly one write.
/// Uses the debug-only `WRITEBACKD_TEST_CRASH_AFTER_WRITE` switch and external SIGKILLs.
@Suite("Crash recovery: applied at most once", .serialized)
struct CrashRecoveryTests {
    static func options() -> E2ESetup.Options {
        var o = E2ESetup.Options()
        o.leaseSeconds = 5
        o.pollIntervalMs = 100
        return o
    }

    /// One administrator reset for `user`, queued; returns the row and its new password.
    static func enqueueReset(_ setup: E2ESetup, user: String) async throws -> (SignedRequest, String) {
        let password = E2ESetup.newPassword()
        let row = try setup.resetRow(user: user, password: password)
        try await setup.queue().enqueue(id: row.id, payload: row.payload, signature: row.signature)
        return (row, password)
    }

    @Test("killed right after the write: restart records succeeded without writing again")
    func crashAfterWrite() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd, options: Self.options())
            defer { setup.cleanup() }
            let uid = "carol"
            let dn = slapd.userDN(uid)
            let historyBefore = try slapd.attribute(dn: dn, name: "pwdHistory").count

            let (row, password) = try await Self.enqueueReset(setup, user: uid)
            let queue = try setup.queue()

            // 1. The first daemon writes, then kills itself before recording the outcome.
            let first = try setup.daemon(log: "daemon-1.log", environment: ["WRITEBACKD_TEST_CRASH_AFTER_WRITE": "1"])
            defer { first.stop() }
            let exited = await first.waitExit(timeout: 30)
            #expect(exited != nil, "daemon did not crash: \(first.log.suffix(2000))")
            #expect(first.process.terminationReason == .uncaughtSignal && first.process.terminationStatus == SIGKILL)
            let interrupted = try #require(try await queue.summary(id: row.id))
            #expect(interrupted.state == .inProgress)
            #expect(try await queue.intentRecorded(id: row.id))
            #expect(slapd.bind(user: uid, password: password), "the write did not happen before the crash")
            let historyAfterCrash = try slapd.attribute(dn: dn, name: "pwdHistory")
            let changedAfterCrash = try slapd.attribute(dn: dn, name: "pwdChangedTime")
            #expect(historyAfterCrash.count == historyBefore + 1)

            // 2. A restarted daemon reclaims the row after the lease and decides by readback.
            let second = try setup.daemon(log: "daemon-2.log")
            defer { second.stop() }
            let done = await eventually(timeout: 30) { (try? await queue.summary(id: row.id))?.state.isTerminal == true }
            let final = try await queue.summary(id: row.id)
            #expect(done)
            #expect(final?.state == .succeeded && final?.outcome == "succeeded", "\(String(describing: final)); log: \(second.log.suffix(2000))")
            #expect(second.log.contains("already applied"))
            // Exactly one write: history grew by one, the change time is the crash-time one.
            #expect(try slapd.attribute(dn: dn, name: "pwdHistory") == historyAfterCrash)
            #expect(try slapd.attribute(dn: dn, name: "pwdChangedTime") == changedAfterCrash)
            #expect(slapd.bind(user: uid, password: password))
            // Terminal row: no sealed bytes left.
            let sealed = try #require(try PayloadV1.decode(row.payload).newPassword)
            second.stop()
            let bytes = [setup.queuePath, setup.queuePath + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }.reduce(Data(), +)
            #expect(bytes.range(of: Data(sealed.ct.base64EncodedString().utf8)) == nil)
            #expect(bytes.range(of: Data(password.utf8)) == nil)
        }
    }

    /// What became of one reset for carol through a daemon with a debug fault switch set.
    struct FaultRun {
        var summary: RequestSummary?
        var password: String
        var log: String
        var historyBefore: [String]
        var historyAfter: [String]
        var binds: Bool
    }

    static func resetThroughFault(_ slapd: Slapd, _ fault: String, maxAttempts: Int = 10) async throws -> FaultRun {
        var options = Self.options()
        options.maxAttempts = maxAttempts
        let setup = try E2ESetup(slapd: slapd, options: options)
        defer { setup.cleanup() }
        let dn = slapd.userDN("carol")
        let historyBefore = try slapd.attribute(dn: dn, name: "pwdHistory")
        let (row, password) = try await Self.enqueueReset(setup, user: "carol")
        let queue = try setup.queue()
        let daemon = try setup.daemon(environment: [fault: "1"])
        defer { daemon.stop() }
        _ = await eventually(timeout: 30) { (try? await queue.summary(id: row.id))?.state.isTerminal == true }
        return FaultRun(summary: try await queue.summary(id: row.id), password: password, log: daemon.log,
                        historyBefore: historyBefore, historyAfter: try slapd.attribute(dn: dn, name: "pwdHistory"),
                        binds: slapd.bind(user: "carol", password: password))
    }

    @Test("a lost reply whose write lands after the readback: succeeded, written once, not a history refusal")
    func writeLandsLate() async throws {
        // Write 1 "times out" and is applied only after the retry's readback has answered
        // "not applied"; the retry's own write then meets the password already in place.
        try await withSlapd { slapd in
            let run = try await Self.resetThroughFault(slapd, "WRITEBACKD_TEST_WRITE_LANDS_LATE")
            #expect(run.summary?.state == .succeeded && run.summary?.outcome == "succeeded", "\(String(describing: run.summary)); log: \(run.log.suffix(2000))")
            #expect(run.log.contains("landed late"))
            #expect(run.summary?.attempts == 1)
            #expect(run.binds)
            #expect(run.historyAfter.count == run.historyBefore.count + 1)
        }
    }

    @Test("the last attempt's write times out but was applied: a readback records succeeded, not directory_error")
    func lastAttemptLostReply() async throws {
        try await withSlapd { slapd in
            let run = try await Self.resetThroughFault(slapd, "WRITEBACKD_TEST_LOST_REPLY", maxAttempts: 1)
            #expect(run.summary?.state == .succeeded && run.summary?.outcome == "succeeded", "\(String(describing: run.summary)); log: \(run.log.suffix(2000))")
            #expect(run.log.contains("already applied"))
            #expect(run.binds)
            #expect(run.historyAfter.count == run.historyBefore.count + 1)
        }
    }

    @Test("the last attempt's write times out and was not applied: failed/directory_error, nothing written")
    func lastAttemptDropped() async throws {
        try await withSlapd { slapd in
            let run = try await Self.resetThroughFault(slapd, "WRITEBACKD_TEST_WRITE_DROPPED", maxAttempts: 1)
            #expect(run.summary?.state == .failed && run.summary?.outcome == "directory_error", "\(String(describing: run.summary))")
            #expect(run.summary?.detail?.contains("readback: not applied") == true, "\(String(describing: run.summary?.detail))")
            #expect(run.summary?.attempts == 1)
            #expect(!run.binds)
            #expect(run.historyAfter == run.historyBefore)
        }
    }

    @Test("a write slower than the lease: the lease is renewed and the request is claimed once")
    func leaseRenewedDuringSlowWrite() async throws {
        try await withSlapd { slapd in
            var options = Self.options()   // lease 5 s, poll 100 ms
            options.timeoutSeconds = 2
            let setup = try E2ESetup(slapd: slapd, options: options)
            defer { setup.cleanup() }
            let (row, password) = try await Self.enqueueReset(setup, user: "carol")
            let queue = try setup.queue()
            let daemon = try setup.daemon(environment: ["WRITEBACKD_TEST_WRITE_DELAY_MS": "8000"])
            defer { daemon.stop() }
            let done = await eventually(timeout: 40) { (try? await queue.summary(id: row.id))?.state.isTerminal == true }
            #expect(done)
            let final = try await queue.summary(id: row.id)
            #expect(final?.state == .succeeded && final?.attempts == 0, "\(String(describing: final)); log: \(daemon.log.suffix(2000))")
            #expect(slapd.bind(user: "carol", password: password))
            try await Task.sleep(for: .seconds(1))  // a second claim would have logged by now
            let lines = daemon.log.split(separator: "\n").filter { $0.contains(row.id) }
            let audits = lines.filter { $0.contains("\"audit\":\"request\"") }
            #expect(audits.count == 1, "\(lines.joined(separator: "\n"))")
            #expect(!lines.contains { $0.contains("\"level\":\"error\"") || $0.contains("\"level\":\"warning\"") }, "\(lines.joined(separator: "\n"))")
        }
    }

    @Test("200 requests, 5 random SIGKILLs during the drain: 0 lost, 0 applied twice")
    func randomKills() async throws {
        try await withSlapd(benchUsers: 100, dbnosync: true) { slapd in
            let setup = try E2ESetup(slapd: slapd, options: Self.options())
            defer { setup.cleanup() }
            let users = (1...100).map { String(format: "bench%05d", $0) }
            func benchDN(_ uid: String) -> String { "uid=\(uid),ou=bench,\(slapd.baseDN)" }
            var historyBefore: [String: Int] = [:]
            for u in users {
                historyBefore[u] = try slapd.attribute(dn: benchDN(u), name: "pwdHistory").count
                try #require(historyBefore[u]! + 2 <= 5, "pwdInHistory 5 would hide a double write")
            }
            // Two requests per user, so a reclaimed request may find its user changed again since.
            let ids = try await setup.enqueueResets(200, users: users)
            let queue = try setup.queue()

            var kills: [String] = []
            var logs: [String] = []
            for run in 1...5 {
                let injected = run % 2 == 1
                let env = injected ? ["WRITEBACKD_TEST_CRASH_AFTER_WRITE": String(Int.random(in: 3...25))] : [:]
                let logPath = setup.dir + "/daemon-\(run).log"
                let d = try DaemonProcess(configPath: setup.configPath, socketPath: setup.socketPath, logPath: logPath, environment: env)
                defer { d.stop() }
                if injected {
                    _ = await d.waitExit(timeout: 60)
                    kills.append("run \(run): self-kill after write \(env.values.first!) (\(d.isRunning ? "still running" : "died"))")
                    if d.isRunning { d.signal(SIGKILL); _ = await d.waitExit(timeout: 10) }
                } else {
                    // External SIGKILL after a random number of further completions.
                    let base = try await queue.counts()[.succeeded] ?? 0
                    let target = min(base + Int.random(in: 5...30), 195)
                    _ = await eventually(timeout: 60, every: .milliseconds(5)) { (try? await queue.counts()[.succeeded] ?? 0) ?? 0 >= target }
                    d.signal(SIGKILL)
                    _ = await d.waitExit(timeout: 10)
                    kills.append("run \(run): external SIGKILL at ~\(target) succeeded")
                }
                logs.append(d.log)
            }
            let last = try setup.daemon(log: "daemon-final.log")
            defer { last.stop() }
            let drained = await eventually(timeout: 180, every: .milliseconds(200)) {
                let c = (try? await queue.counts()) ?? [:]
                return (c[.pending] ?? 1) == 0 && (c[.inProgress] ?? 1) == 0
            }
            logs.append(last.log)
            let counts = try await queue.counts()
            #expect(drained, "counts \(counts)")
            let rows = try await queue.list(state: nil, limit: 1000)
            let lost = ids.filter { id in rows.first { $0.id == id }?.state != .succeeded }
            var twice: [String] = [], missing: [String] = []
            for u in users {
                let delta = try slapd.attribute(dn: benchDN(u), name: "pwdHistory").count - historyBefore[u]!
                if delta > 2 { twice.append("\(u): \(delta) writes") }
                if delta < 2 { missing.append("\(u): \(delta) writes") }
            }
            let recovered = logs.map { $0.components(separatedBy: "already applied").count - 1 }.reduce(0, +)
            print("Crash drain: \(kills.joined(separator: "; ")); rows not succeeded: \(lost.count); users written twice: \(twice.count); users short of writes: \(missing.count); readbacks that found the write applied: \(recovered)")
            #expect(lost.isEmpty, "not succeeded: \(lost.prefix(5)) \(rows.filter { lost.contains($0.id) }.prefix(5).map { "\($0.state) \($0.outcome ?? "") \($0.detail ?? "")" })")
            #expect(twice.isEmpty, "applied twice: \(twice.prefix(10))")
            #expect(missing.isEmpty, "succeeded but not written: \(missing.prefix(10))")
        }
    }
}
