import Foundation
import Testing
import TestSupport

/// `writebackctl metrics` through the control socket, and the same Prometheus text over HTTP
/// when `[control] metrics_listen` names a loopback address, fetched by an independent client
/// (Python's urllib), against the real daemon and slapd.
@Suite("Daemon metrics")
struct DaemonMetricsTests {
    @Test("metrics through the socket and over loopback HTTP: counters per outcome, queue depth, write latency, directory up")
    func socketAndHTTP() async throws {
        try await withSlapd { slapd in
            let port = try freeLoopbackPort()
            let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: 100, metricsListen: "127.0.0.1:\(port)"))
            defer { setup.cleanup() }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            let ids = try await setup.enqueueResets(3, users: ["alice", "bob", "carol"])
            let queue = try setup.queue()
            #expect(await eventually(timeout: 60) {
                var done = true
                for id in ids where (try? await queue.summary(id: id))?.state.isTerminal != true { done = false }
                return done
            })

            let viaSocket = try run(ctl: ["metrics", "--socket", setup.socketPath])
            #expect(viaSocket.status == 0, "\(viaSocket.stderr)")
            for name in ["writebackd_requests_total{outcome=\"succeeded\"} 3", "writebackd_queue_depth",
                         "writebackd_directory_write_seconds", "writebackd_directory_up"] {
                #expect(viaSocket.stdout.contains(name), "\(name) missing from: \(viaSocket.stdout.prefix(2000))")
            }

            let get = """
                import sys, urllib.request, urllib.error
                def fetch(path):
                    try:
                        r = urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], path), timeout=5)
                        return r.status, r.headers.get("Content-Type"), r.read().decode()
                    except urllib.error.HTTPError as e:
                        return e.code, e.headers.get("Content-Type"), ""
                s, t, body = fetch("/metrics")
                print(s); print(t); print(fetch("/nope")[0]); sys.stdout.write(body)
                """
            let http = try ToolRunner.run("/usr/bin/python3", ["-c", get, String(port)])
            #expect(http.status == 0, "\(http.stderr)")
            let lines = http.stdout.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            #expect(lines.count == 4)
            #expect(lines.first == "200", "\(http.stdout.prefix(500))")
            #expect(lines.dropFirst().first?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(lines.dropFirst(2).first == "404")
            #expect(lines.last?.contains("writebackd_requests_total{outcome=\"succeeded\"} 3") == true)
        }
    }
}
