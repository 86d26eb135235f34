import ControlSocket
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The real `writebackd` binary, started by a test and stopped by its PID (also when the test
/// fails: `stop()` in a `defer`). Its stderr goes to a file the test can read for log lines.
final class DaemonProcess {
    let process: Process
    let logPath: String
    let socketPath: String

    /// The build directory holding the test bundle also holds the executables.
    static var binDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["WRITEBACKD_BIN_DIR"] { return dir }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<5 {
            url = url.deletingLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("writebackd").path) { return url.path }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").path
    }

    static var daemonPath: String { binDirectory + "/writebackd" }
    static var ctlPath: String { binDirectory + "/writebackctl" }

    init(configPath: String, socketPath: String, logPath: String, environment: [String: String] = [:], logFormat: String = "json") throws {
        self.logPath = logPath
        self.socketPath = socketPath
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.daemonPath)
        process.arguments = ["--config", configPath, "--log-format", logFormat]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Ready = the control socket answers `status` (DESIGN.md "Readiness").
    func waitReady(timeout: TimeInterval = 20) async -> Bool {
        await eventually(timeout: timeout) {
            if !process.isRunning { return true }
            return (try? ControlClient(path: socketPath, timeoutSeconds: 2).send(ControlRequest(command: "status")))?.ok == true
        } && process.isRunning
    }

    func control(_ command: String, state: String? = nil, limit: Int? = nil) throws -> ControlReply {
        try ControlClient(path: socketPath, timeoutSeconds: 10).send(ControlRequest(command: command, state: state, limit: limit))
    }

    func status() throws -> JSONValue { try control("status").result ?? .null }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits for exit; returns the exit status, or nil on timeout.
    func waitExit(timeout: TimeInterval) async -> Int32? {
        let done = await eventually(timeout: timeout, every: .milliseconds(20)) { !process.isRunning }
        return done ? process.terminationStatus : nil
    }

    /// SIGTERM, then SIGKILL after 10 s. Safe to call twice.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }
}
