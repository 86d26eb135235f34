import ControlSocket
import Foundation
import RequestQueue
import Testing
import TestSupport
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// The control socket and `writebackctl` against the real daemon: pause holds requests,
/// resume releases them, peer credentials decide who may read and who may steer.
@Suite("Daemon control socket", .serialized)
struct DaemonControlTests {
    @Test("pause holds new requests pending across several poll intervals; resume completes them")
    func pauseResume() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: 200))
            defer { setup.cleanup() }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")

            let paused = try run(ctl: ["pause", "--socket", setup.socketPath, "--json"])
            #expect(paused.status == 0, "\(paused.stderr)")
            #expect(try daemon.status()["state"]?.stringValue == "paused")

            let ids = try await setup.enqueueResets(5, users: ["alice", "bob", "carol"])
            try await Task.sleep(for: .milliseconds(1500))  // 7 poll intervals
            let queue = try setup.queue()
            for id in ids { #expect(try await queue.summary(id: id)?.state == .pending) }

            let resumed = try run(ctl: ["resume", "--config", setup.configPath])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try daemon.status()["state"]?.stringValue == "running")
            let done = await eventually(timeout: 60) {
                var all = true
                for id in ids where (try? await queue.summary(id: id))?.state != .succeeded { all = false }
                return all
            }
            #expect(done, "not all succeeded after resume: \(daemon.log.suffix(1500))")

            // `requests --json`: newest first, the contract's fields, no payload.
            let listed = try run(ctl: ["requests", "--socket", setup.socketPath, "--json", "--limit", "3"])
            #expect(listed.status == 0)
            let rows = try JSONDecoder().decode(JSONValue.self, from: Data(listed.stdout.utf8)).arrayValue ?? []
            #expect(rows.count == 3)
            for row in rows {
                #expect(Set(row.objectValue?.keys.map { $0 } ?? []) == ["id", "state", "outcome", "detail", "attempts", "created_at", "completed_at"])
            }
            let human = try run(ctl: ["status", "--socket", setup.socketPath])
            #expect(human.status == 0)
            #expect(human.stdout.contains("state:") && human.stdout.contains("running"))
            let metrics = try run(ctl: ["metrics", "--socket", setup.socketPath])
            #expect(metrics.stdout.contains("writebackd_requests_total{outcome=\"succeeded\"} 5"))
            #expect(metrics.stdout.contains("writebackd_queue_depth"))
            #expect(metrics.stdout.contains("writebackd_directory_write_seconds_bucket"))
            #expect(metrics.stdout.contains("writebackd_directory_up"))
        }
    }

    @Test("a peer outside the group is refused; a reader may read but not pause")
    func peerCredentials() async throws {
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd, options: .init(controlGroup: "nogroup"))
            defer { setup.cleanup() }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            var st = stat()
            #expect(stat(setup.socketPath, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o660)

            let ctl = try worldExecutableCtl()
            defer { try? FileManager.default.removeItem(atPath: (ctl as NSString).deletingLastPathComponent) }
            // nobody/nogroup: a member of the socket's group → may read.
            let read = try ToolRunner.run("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", ctl,
                                                               "status", "--socket", setup.socketPath, "--json"])
            #expect(read.status == 0, "\(read.stderr)")
            // ... but not pause: refused by the daemon, with a reply that says so, and logged.
            let pause = try ToolRunner.run("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", ctl,
                                                                "pause", "--socket", setup.socketPath])
            #expect(pause.status == 1)
            #expect(pause.stderr.contains("permission refused"), "\(pause.stderr)")
            #expect(try daemon.status()["state"]?.stringValue == "running")
            #expect(await eventually(timeout: 5) { daemon.log.contains("control: refused") })
            // A user outside the group cannot even open the socket: a clear message, exit 1.
            let outsider = try ToolRunner.run("/usr/bin/setpriv", ["--reuid=nobody", "--regid=65533", "--clear-groups", ctl,
                                                                   "status", "--socket", setup.socketPath])
            #expect(outsider.status == 1, "\(outsider.stdout) \(outsider.stderr)")
            #expect(outsider.stderr.contains("permission refused"), "\(outsider.stderr)")
            // No socket at all: exit 2 and a hint.
            let absent = try run(ctl: ["status", "--socket", setup.dir + "/nothing.sock"])
            #expect(absent.status == 2)
            #expect(absent.stderr.contains("is writebackd running"))
            // A garbage line does not take the daemon down.
            let garbage = try rawExchange(socket: setup.socketPath, line: "{not json")
            #expect(garbage.contains("bad_request"))
            #expect(try daemon.status()["state"]?.stringValue == "running")
        }
    }
}

/// Runs `writebackctl` (the build's binary) as the current user.
func run(ctl arguments: [String]) throws -> ToolRunner.Result {
    try ToolRunner.run(DaemonProcess.ctlPath, arguments)
}

/// A copy of `writebackctl` in a world-readable directory, for runs as `nobody`.
func worldExecutableCtl() throws -> String {
    let dir = try Slapd.makeTempDir(prefix: "ctlbin")
    chmod(dir, 0o755)
    let path = dir + "/writebackctl"
    // Copied by a child process: a copy written from this process leaves a writable descriptor
    // that any tool spawned meanwhile by a parallel test inherits, and exec then fails with
    // ETXTBSY ("Text file busy").
    let copy = try ToolRunner.run("/usr/bin/install", ["-m", "0755", DaemonProcess.ctlPath, path])
    guard copy.status == 0 else { throw SlapdHarnessError.commandFailed("install: \(copy.stderr)") }
    return path
}

/// Sends one raw line and returns the raw reply line.
func rawExchange(socket path: String, line: String) throws -> String {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: bytes); raw[bytes.count] = 0 }
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard rc == 0 else { return "" }
    var tv = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let out = Array((line + "\n").utf8)
    _ = out.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    let n = read(fd, &buffer, buffer.count)
    return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
}
