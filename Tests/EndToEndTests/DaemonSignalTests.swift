import ControlSocket
import Foundation
import RequestQueue
import Testing
import TestSupport
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// Signals and systemd: SIGTERM drains and exits 0 in time with no row left in progress,
/// SIGHUP reloads or keeps the old configuration, NOTIFY_SOCKET hears READY=1 then STOPPING=1.
@Suite("Daemon signals and systemd notify", .serialized)
struct DaemonSignalTests {
    @Test("SIGTERM with requests in flight: exit 0 within 10 s, nothing left in_progress")
    func sigtermDrains() async throws {
        try await withSlapd(benchUsers: 50) { slapd in
            // history_count 24: every request runs a scrypt derivation, so requests are
            // really in flight (hashing, writing) when SIGTERM arrives.
            let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: 100, historyCount: 24))
            defer { setup.cleanup() }
            let users = (1...50).map { String(format: "bench%05d", $0) }
            try await setup.enqueueResets(100, users: users)
            let queue = try setup.queue()
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            // Some done, many still to do: requests are in flight.
            #expect(await eventually(timeout: 30, every: .milliseconds(10)) { ((try? await queue.counts()) ?? [:])[.succeeded] ?? 0 >= 4 })
            let before = try await queue.counts()
            let sent = Date()
            daemon.signal(SIGTERM)
            let code = await daemon.waitExit(timeout: 10)
            let took = Date().timeIntervalSince(sent)
            #expect(code == 0, "exit \(String(describing: code)) after \(took) s; log: \(daemon.log.suffix(1500))")
            #expect(took < 10)
            let after = try await queue.counts()
            #expect((after[.inProgress] ?? 0) == 0, "after SIGTERM: \(after)")
            #expect((after[.pending] ?? 0) > 0, "the test needs work left over: \(before) → \(after)")
            #expect((after[.succeeded] ?? 0) + (after[.pending] ?? 0) == 100, "\(after)")
            #expect((after[.succeeded] ?? 0) > (before[.succeeded] ?? 0), "in-flight requests were finished and recorded")
            print("E2E SIGTERM: exit \(String(describing: code)) in \(String(format: "%.2f", took)) s; before \(before), after \(after)")
        }
    }

    @Test("SIGHUP with a broken file keeps serving and shows config_error; a good file clears it")
    func sighupReload() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd)
            defer { setup.cleanup() }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            let loadedAt = try daemon.status()["config_loaded_at"]?.stringValue
            #expect(loadedAt != nil)
            #expect(try daemon.status()["config_error"] == .null)

            let good = try String(contentsOfFile: setup.configPath, encoding: .utf8)
            try (good + "\n[policy]\nmin_lenght = 3\n").write(toFile: setup.configPath, atomically: true, encoding: .utf8)
            daemon.signal(SIGHUP)
            #expect(await eventually(timeout: 10) { (try? daemon.status())?["config_error"]?.stringValue != nil })
            let error = try daemon.status()["config_error"]?.stringValue ?? ""
            #expect(error.contains(setup.configPath), "\(error)")
            #expect(try daemon.status()["config_loaded_at"]?.stringValue == loadedAt)
            #expect(daemon.log.contains("configuration not reloaded"))

            // Still serving.
            let ids = try await setup.enqueueResets(2, users: ["alice", "bob"])
            let queue = try setup.queue()
            #expect(await eventually(timeout: 60) {
                var all = true
                for id in ids where (try? await queue.summary(id: id))?.state != .succeeded { all = false }
                return all
            })

            try await Task.sleep(for: .milliseconds(1100))
            try good.write(toFile: setup.configPath, atomically: true, encoding: .utf8)
            daemon.signal(SIGHUP)
            #expect(await eventually(timeout: 10) { (try? daemon.status())?["config_error"] == .null })
            #expect(try daemon.status()["config_loaded_at"]?.stringValue != loadedAt)
            #expect(daemon.isRunning)
        }
    }

    @Test("NOTIFY_SOCKET receives READY=1, then STOPPING=1 on SIGTERM")
    func systemdNotify() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd)
            defer { setup.cleanup() }
            let listener = try NotifyListener(path: setup.dir + "/notify.sock")
            defer { listener.close() }
            let daemon = try setup.daemon(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "1000000"])
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            var messages: [String] = []
            #expect(await eventually(timeout: 10) { messages += listener.drain(); return messages.contains { $0.contains("READY=1") } })
            #expect(await eventually(timeout: 5) { messages += listener.drain(); return messages.contains("WATCHDOG=1") })
            daemon.signal(SIGTERM)
            #expect(await daemon.waitExit(timeout: 10) == 0)
            messages += listener.drain()
            let ready = messages.firstIndex { $0.contains("READY=1") }
            let stopping = messages.firstIndex { $0.contains("STOPPING=1") }
            #expect(ready != nil && stopping != nil && ready! < stopping!, "\(messages)")
            #expect(messages.first { $0.contains("READY=1") }?.contains("STATUS=") == true)
        }
    }
}

/// A datagram Unix socket standing in for systemd's notify socket.
final class NotifyListener {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes); raw[bytes.count] = 0 }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw SlapdHarnessError.commandFailed("bind \(path): \(errno)") }
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
    }

    /// Every datagram received so far.
    func drain() -> [String] {
        var out: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out.append(String(decoding: buffer[0..<n], as: UTF8.self))
        }
        return out
    }

    func close() { Glibc.close(fd); unlink(path) }
}
