import Foundation
import Testing
import WritebackCore
@testable import Outbox

/// Helpers shared by the outbox tests: temporary outboxes, confirmations, the Python MIME
/// parser (tests/mime/parse.py) and child processes stopped by PID.
enum OutboxFixture {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = "/usr/bin/python3"
    static let at = Date(timeIntervalSince1970: 1_795_660_640) // 2026-11-26T02:37:20Z

    /// A fresh directory under /tmp; the caller removes it.
    static func temporaryDirectory(_ label: String = "outbox") -> String {
        let path = NSTemporaryDirectory() + "wbd-\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func config(_ dir: String, from: String = "IT Service Desk <noreply@example.org>",
                       organization: String = "Example Org", adminNotify: [String] = ["secops@example.org"]) -> OutboxConfig {
        var config = OutboxConfig(dir: dir)
        config.from = from
        config.organization = organization
        config.adminNotify = adminNotify
        return config
    }

    static func confirmation(id: String = UUID().uuidString.lowercased(), kind: RequestKind = .reset,
                             unlocked: Bool = true, mustChange: Bool = false, initiator: Initiator = .user,
                             displayName: String? = "Wei Zhang",
                             mail: [String] = ["zhang.wei@example.org"],
                             alternate: [String] = ["ZHANG.WEI@example.org", "zw@personal.example"],
                             locale: String? = "en") -> WritebackCore.Confirmation {
        WritebackCore.Confirmation(requestId: id, kind: kind, unlocked: unlocked, mustChange: mustChange, initiator: initiator,
                     accountName: "zwei", displayName: displayName, mail: mail, alternateMail: alternate,
                     locale: locale, at: at)
    }

    /// Runs `/usr/bin/python3 args…` and returns stdout; records stderr on failure.
    static func runPython(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            Issue.record("python \(arguments.first ?? "") failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return data
    }

    /// Each file as Python's `email` package sees it.
    static func parse(_ paths: [String]) throws -> [ParsedMessage] {
        let script = repoRoot.appendingPathComponent("tests/mime/parse.py").path
        return try JSONDecoder().decode([ParsedMessage].self, from: runPython([script] + paths))
    }

    /// The lines of `outbox.jsonl` as JSON objects.
    static func journal(_ dir: String) -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: dir + "/outbox.jsonl") else { return [] }
        return data.split(separator: 0x0A).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]
        }
    }

    static func files(_ dir: String, _ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/\(folder)")) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
}

/// What tests/mime/parse.py prints for one message.
struct ParsedMessage: Decodable {
    struct Address: Decodable { var name: String; var addr: String }
    var headers: [String: String]
    var header_names: [String]
    var raw_header_lines_max: Int
    var raw_header_ascii: Bool
    var body_lines_max: Int
    var content_type: String
    var charset: String?
    var cte: String?
    var is_multipart: Bool
    var defects: [String]
    var body: String
    var from: [Address]
    var to: [Address]
    var subject: String?
    var date_iso: String?
    var message_id: String?
}

/// A child process the test started; stopped by its PID (SIGTERM, then SIGKILL).
final class ChildProcess {
    let process = Process()
    let stdout = Pipe()

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// Reads stdout until a line starting with `prefix`; returns the rest of that line.
    func readLine(prefix: String) -> String? {
        var buffer = Data()
        let handle = stdout.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer += chunk
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") where line.hasPrefix(prefix) {
                return String(line.dropFirst(prefix.count))
            }
        }
    }

    private var stopped = false

    /// SIGTERM, SIGKILL after 5 s if it is still running; waits for the exit.
    func stop() {
        guard !stopped else { return }
        stopped = true
        let pid = self.pid
        kill(pid, SIGTERM)
        let killer = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 5, execute: killer)
        process.waitUntilExit()
        killer.cancel()
    }

    deinit { stop() }
}

/// A duration in microseconds.
func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}
