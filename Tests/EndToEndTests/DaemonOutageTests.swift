import Foundation
import RequestQueue
import Testing
import TestSupport
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// A directory outage costs nothing but time: slapd frozen (SIGSTOP) for 20 s, then back →
/// every request still succeeds, without burning attempts; `status` says `directory_down`
/// meanwhile.
@Suite("Daemon survives a directory outage", .serialized)
struct DaemonOutageTests {
    @Test("slapd stopped for 20 s then back: every request succeeds")
    func outage() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: 200, timeoutSeconds: 1, leaseSeconds: 10))
            defer { setup.cleanup() }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            let users = ["alice", "bob", "carol", "dave", "grace"]
            var ids = try await setup.enqueueResets(3, users: users)

            slapd.suspend()
            var resumed = false
            defer { if !resumed { slapd.resume() } }
            ids += try await setup.enqueueResets(10, users: users)
            let down = await eventually(timeout: 15) { (try? daemon.status())?["state"]?.stringValue == "directory_down" }
            try await Task.sleep(for: .seconds(20))
            let queue = try setup.queue()
            let during = try await queue.counts()
            slapd.resume()
            resumed = true

            let done = await eventually(timeout: 60) {
                var all = true
                for id in ids where (try? await queue.summary(id: id))?.state.isTerminal != true { all = false }
                return all
            }
            #expect(done, "log: \(daemon.log.suffix(2000))")
            var outcomes: [String: Int] = [:]
            for id in ids {
                let s = try await queue.summary(id: id)
                outcomes[s?.outcome ?? "none", default: 0] += 1
            }
            #expect(outcomes == ["succeeded": ids.count], "\(outcomes) \(daemon.log.suffix(20000))")
            #expect(down, "status never showed directory_down")
            #expect((during[.succeeded] ?? 0) <= 3)
            print("E2E outage: during \(during), outcomes \(outcomes)")
        }
    }

    @Test("slapd frozen with a connection's worth of requests queued on each connection: SIGTERM still exits 0 within 10 s")
    func sigtermDuringOutage() async throws {
        try await withSlapd(benchUsers: 40) { slapd in
            let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: 100, timeoutSeconds: 2, leaseSeconds: 30))
            defer { setup.cleanup() }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            slapd.suspend()
            defer { slapd.resume() }
            // 40 users, so no request waits for another's user lock: every worker's lookup
            // queues on a connection of the frozen server. Queued while paused, so one claim
            // takes a full house before the first timeout makes the daemon probe one at a time.
            #expect(try daemon.control("pause").ok)
            try await setup.enqueueResets(40, users: (1...40).map { String(format: "bench%05d", $0) })
            let queue = try setup.queue()
            #expect(try daemon.control("resume").ok)
            // Alone, all 32 workers hold a row here (printed below); on a loaded host the daemon
            // may have given them back before this look, and the stop is then checked all the same.
            _ = await eventually(timeout: 10, every: .milliseconds(10)) { ((try? await queue.counts()) ?? [:])[.inProgress] ?? 0 >= 8 }
            let held = try await queue.counts()[.inProgress] ?? 0
            let sent = Date()
            daemon.signal(SIGTERM)
            let code = await daemon.waitExit(timeout: 20)
            let took = Date().timeIntervalSince(sent)
            #expect(code == 0 && took < 10, "exit \(String(describing: code)) after \(took) s with \(held) in progress; \(daemon.log.suffix(4000))")
            let after = try await queue.counts()
            #expect((after[.inProgress] ?? 0) == 0 && (after[.pending] ?? 0) == 40, "\(after)")
            #expect(try await queue.list(state: .pending, owner: nil, limit: 50).allSatisfy { $0.attempts == 0 })
            print("E2E SIGTERM in an outage: exit \(String(describing: code)) in \(String(format: "%.2f", took)) s with \(held) in progress")
        }
    }
}
