import ArgumentParser
import Foundation
import Logging
import WritebackDaemon
#if canImport(Glibc)
import Glibc
#endif

/// `writebackd --config PATH [--log-format json|text]`: the daemon, in the foreground, logging
/// to stderr; systemd `Type=notify`. Everything else lives in `WritebackDaemon.Daemon`.
@main
struct WritebackD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "writebackd",
        abstract: "Password writeback daemon: drains the signed request queue into the directory.",
        version: WritebackDaemonInfo.version)

    @Option(name: .long, help: "Configuration file (TOML).")
    var config: String = "/etc/writebackd/writebackd.toml"

    @Option(name: .long, help: "Log line format on stderr: text or json.")
    var logFormat: String = "text"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        // libldap and the control socket write to sockets the peer may have closed.
        signal(SIGPIPE, SIG_IGN)
        MemoryTuning.apply()
        LogFormat(rawValue: logFormat)!.bootstrap(level: Logger.Level(rawValue: logLevel)!)
        let logger = Logger(label: "writebackd")
        let code = await Daemon.run(configPath: config, logger: logger)
        if code != 0 { throw ExitCode(code) }
    }
}

