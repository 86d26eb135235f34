import ArgumentParser
import Foundation
import WritebackConfig
import WritebackDaemon

/// `writebackctl doctor --config PATH [--json]`: checks configuration, keys, queue, directory
/// reachability, TLS, bind and the service account's rights; one line per check with a fix for
/// each failure. Exit 0 when all pass, 1 when any fails.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check configuration, keys, queue, directory, TLS, bind and rights; print a fix for each failure.")

    @Option(name: .long, help: "Configuration file.")
    var config: String = ConfigLoader.defaultPath

    @Flag(name: .long, help: "Print {\"ok\": bool, \"checks\": [{\"name\",\"ok\",\"detail\",\"fix\"}]}.")
    var json = false

    func run() async throws {
        let report = await WritebackDaemon.Doctor(configPath: config).run()
        print(json ? report.json() : report.text())
        if !report.ok { throw ExitCode(1) }
    }
}
