import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `make demo`'s script, run non-interactively against the binaries of this build: it must end
/// with exit 0, show each step's result (the reset binds, the unlock took, the banned password
/// was refused with its code, the daemon stopped cleanly), and leave no process or directory behind.
@Suite("demo script", .serialized)
struct DemoScriptTests {
    static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    @Test("scripts/demo.sh (OpenLDAP) runs end to end and cleans up", .timeLimit(.minutes(3)))
    func demo() throws {
        let started = Date()
        let r = try ToolRunner.run("/bin/bash", [Self.root + "/scripts/demo.sh"],
                                   environment: ["DEMO_BIN_DIR": DaemonProcess.binDirectory])
        let seconds = Date().timeIntervalSince(started)
        print("demo.sh: exit \(r.status) in \(String(format: "%.1f", seconds)) s")
        #expect(r.status == 0, "stdout:\n\(r.stdout)\nstderr:\n\(r.stderr)")
        for marker in ["doctor: all", "writebackd running, PID", "bob: pwdAccountLockedTime:", "carol: pwdAccountLockedTime:",
                       "outcome:      password_policy", "detail:       banned",
                       "bind as bob with the new password: OK", "carol: unlocked, binds with the unchanged password: OK",
                       "Subject:", "(the new password appears in no message, log or outbox line: checked)",
                       "writebackd exited 0", "demo: wall time", "DEMO OK"] {
            #expect(r.stdout.contains(marker), "missing: \(marker)")
        }
        #expect(seconds < 180)

        // Nothing left running or on disk.
        func value(after prefix: String) -> String? {
            r.stdout.split(separator: "\n").first { $0.contains(prefix) }
                .map { String($0[$0.range(of: prefix)!.upperBound...]).trimmingCharacters(in: .whitespaces) }
        }
        for prefix in ["writebackd running, PID ", ", PID "] {
            guard let text = value(after: prefix), let pid = pid_t(text) else { Issue.record("no PID after \(prefix)"); continue }
            var gone = false
            for _ in 0..<50 { if kill(pid, 0) != 0 && errno == ESRCH { gone = true; break }; usleep(100_000) }
            #expect(gone, "PID \(pid) still running")
        }
        if let work = value(after: "work directory: ") {
            #expect(!FileManager.default.fileExists(atPath: work), "\(work) left behind")
        } else {
            Issue.record("no work directory line")
        }
    }
}
