import ArgumentParser
import Foundation
import Logging
import RequestCodec
import RequestQueue
import WritebackConfig
import WritebackCore
import WritebackDaemon
import WritebackPolicy

/// `writebackctl result ID [--wait SECONDS] [--json]`: what a producer sees of one request,
/// read straight from the queue file named in the configuration (no daemon needed).
/// Exit 0: printed; 1: unknown id or unreadable queue; 2: `--wait` passed and the request is
/// still not terminal (the current state is printed all the same).
struct Result: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "result",
        abstract: "Print a request's state, outcome code and detail.")

    @Argument(help: "The request id.")
    var id: String
    @Option(name: .long, help: "Wait up to this many seconds for a terminal state.")
    var wait: Double = 0
    @Flag(name: .long, help: "Print {\"id\",\"state\",\"outcome\",\"detail\",\"attempts\",\"created_at\",\"completed_at\"}.")
    var json = false
    @Option(name: .long, help: "Configuration file (gives the queue path).")
    var config: String = ConfigLoader.defaultPath

    func run() async throws {
        let summary: RequestSummary?
        do {
            let configuration = try ConfigLoader.load(path: config)
            let queue = try await Storage.queue(configuration.queue, logger: Logger(label: "writebackctl"), create: false)
            let deadline = Date().addingTimeInterval(max(0, wait))
            var current = try await queue.summary(id: id)
            while let s = current, !s.state.isTerminal, Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                current = try await queue.summary(id: id)
            }
            summary = current
        } catch {
            FileHandle.standardError.write(Data("writebackctl result: \(error)\n".utf8))
            throw ExitCode(1)
        }
        guard let summary else {
            FileHandle.standardError.write(Data("writebackctl result: no request \(id)\n".utf8))
            throw ExitCode(1)
        }
        print(json ? Self.json(summary) : Self.text(summary))
        if wait > 0, !summary.state.isTerminal { throw ExitCode(2) }
    }

    static func json(_ s: RequestSummary) -> String {
        func opt(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        let value = JSONValue.object([
            "id": .string(s.id), "state": .string(s.state.rawValue), "outcome": opt(s.outcome), "detail": opt(s.detail),
            "attempts": .number(String(s.attempts)), "created_at": .string(timestamp(s.createdAt)),
            "completed_at": opt(s.completedAt.map(timestamp)),
        ])
        return String(decoding: value.serialized(), as: UTF8.self)
    }

    static func text(_ s: RequestSummary) -> String {
        var lines = ["id:           \(s.id)", "state:        \(s.state.rawValue)", "outcome:      \(s.outcome ?? "-")"]
        if let detail = s.detail { lines.append("detail:       \(detail)") }
        if let code = s.outcome.flatMap(OutcomeCode.init(rawValue:)) {
            lines.append("message:      \(UserMessages.message(for: Outcome(code, detail: s.detail), locale: "en"))")
        }
        lines.append("attempts:     \(s.attempts)")
        lines.append("created_at:   \(timestamp(s.createdAt))")
        if let at = s.completedAt { lines.append("completed_at: \(timestamp(at))") }
        return lines.joined(separator: "\n")
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }
}
