import ControlSocket
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real `writebackd` binary under measurement or fault injection, started by the bench
/// and stopped by its PID. Reads what `/proc` says about it (CPU seconds, peak resident
/// memory) and talks to its control socket (ready, pause, resume).
final class DaemonRunner: Sendable {
    let process: Process
    let socketPath: String
    let logPath: String

    init(binary: String, setup: DrainSetup, environment: [String: String] = [:], append: Bool = true) throws {
        socketPath = setup.socketPath
        logPath = setup.logPath
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config", setup.configPath, "--log-format", "json"]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if !FileManager.default.fileExists(atPath: logPath) || !append {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func control(_ command: String) -> Bool {
        (try? ControlClient(path: socketPath, timeoutSeconds: 10).send(ControlRequest(command: command)))?.ok == true
    }

    /// Ready = the control socket answers `status` (DESIGN.md "Readiness").
    func waitReady(timeout: TimeInterval = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else { throw BenchError.failed("writebackd exited at start: \(logTail())") }
            if control("status") { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError.failed("writebackd not ready after \(Int(timeout)) s: \(logTail())")
    }

    /// The end of the daemon's log, for error messages (the run's directory is removed).
    func logTail(_ bytes: Int = 1500) -> String {
        String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(bytes))
    }

    func signal(_ sig: Int32) { kill(pid, sig) }

    /// SIGTERM (or `sig`), then SIGKILL after `grace` seconds; waits for the exit.
    func stop(_ sig: Int32 = SIGTERM, grace: TimeInterval = 15) {
        guard process.isRunning else { return }
        kill(pid, sig)
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    /// User + system CPU seconds so far (/proc/PID/stat fields 14 and 15).
    func cpuSeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Peak resident memory in MiB (VmHWM).
    func peakRSSMiB() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = line.split(separator: " ").compactMap({ Double($0) }).first else { return 0 }
        return kb / 1024
    }
}
