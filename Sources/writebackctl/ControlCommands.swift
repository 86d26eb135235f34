import ArgumentParser
import ControlSocket
import Foundation
import WritebackConfig
import WritebackDaemon

/// Where the control socket is and how to print: shared by every control-socket command.
/// Exit codes scripts can rely on: 0 done, 1 refused or failed, 2 usage error or daemon
/// unreachable.
struct ControlOptions: ParsableArguments {
    @Option(name: .long, help: "Control socket path (default: from --config, else /run/writebackd/control.sock).")
    var socket: String?

    @Option(name: .long, help: "Configuration file to read [control] socket from.")
    var config: String?

    @Flag(name: .long, help: "Print the daemon's JSON reply.")
    var json = false

    func socketPath() throws -> String {
        if let socket { return socket }
        if let config {
            do { return try ConfigLoader.load(path: config).control.socket } catch {
                FileHandle.standardError.write(Data("writebackctl: \(error.description)\n".utf8))
                throw ExitCode(2)
            }
        }
        return "/run/writebackd/control.sock"
    }

    /// Sends `request`; returns the result of a successful reply, or exits with the contract's code.
    func call(_ request: ControlRequest) throws -> JSONValue {
        let path = try socketPath()
        let reply: ControlReply
        do {
            reply = try ControlClient(path: path).send(request)
        } catch {
            FileHandle.standardError.write(Data("writebackctl: \(error.description)\n".utf8))
            // The file system refusing the socket is a refusal (1); everything else: unreachable (2).
            if case .permissionDenied = error { throw ExitCode(1) }
            throw ExitCode(2)
        }
        guard reply.ok else {
            if json {
                print(String(decoding: reply.encodedLine(), as: UTF8.self))
            }
            FileHandle.standardError.write(Data("writebackctl: \(reply.message ?? reply.error ?? "failed")\n".utf8))
            throw ExitCode(1)
        }
        return reply.result ?? .null
    }

    func printJSON(_ value: JSONValue) {
        print(String(decoding: value.encoded(pretty: false), as: UTF8.self))
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the daemon's state, queue depth and directory health.")
    @OptionGroup var options: ControlOptions

    func run() throws {
        let s = try options.call(ControlRequest(command: "status"))
        if options.json { options.printJSON(s); return }
        print(HumanFormat.status(s))
    }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Stop claiming new requests (requests in flight finish).")
    @OptionGroup var options: ControlOptions

    func run() throws {
        let r = try options.call(ControlRequest(command: "pause"))
        if options.json { options.printJSON(r); return }
        print("paused: new requests stay pending until `writebackctl resume`")
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Claim requests again after a pause.")
    @OptionGroup var options: ControlOptions

    func run() throws {
        let r = try options.call(ControlRequest(command: "resume"))
        if options.json { options.printJSON(r); return }
        print("resumed (state: \(r["state"]?.stringValue ?? "?"))")
    }
}

struct Requests: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "requests", abstract: "List recent requests, newest first (no secrets).")
    @OptionGroup var options: ControlOptions

    @Option(name: .long, help: "Only this state: pending, in_progress, succeeded, rejected, failed.")
    var state: String?

    @Option(name: .long, help: "At most this many (default 50).")
    var limit: Int = 50

    @Option(name: .long, help: "Only rows held or recorded by this daemon: its owner name as `status` shows it, or a prefix (host:pid, host). Adds an owner column.")
    var owner: String?

    func validate() throws {
        if let state, !["pending", "in_progress", "succeeded", "rejected", "failed"].contains(state) {
            throw ValidationError("--state must be one of pending, in_progress, succeeded, rejected, failed")
        }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        if let owner, owner.isEmpty || owner.count > 256 { throw ValidationError("--owner must be 1 to 256 characters") }
    }

    func run() throws {
        let rows = try options.call(ControlRequest(command: "requests", state: state, limit: limit, owner: owner))
        if options.json { options.printJSON(rows); return }
        print(HumanFormat.requests(rows.arrayValue ?? [], withOwner: owner != nil))
    }
}

struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metrics", abstract: "Print the Prometheus metrics.")
    @OptionGroup var options: ControlOptions

    func run() throws {
        let m = try options.call(ControlRequest(command: "metrics"))
        if options.json { options.printJSON(.object(["metrics": m])); return }
        print(m.stringValue ?? "", terminator: "")
    }
}
