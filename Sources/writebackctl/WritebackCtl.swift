import ArgumentParser

/// `writebackctl`: the administrator's and the reference producer's command line.
/// Each subcommand lives in its own file.
@main
struct WritebackCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "writebackctl",
        abstract: "Produce, inspect and steer writebackd password writeback requests.",
        subcommands: [
            Keygen.self, Enqueue.self, Result.self,
            Status.self, Pause.self, Resume.self, Requests.self, Metrics.self,
            Doctor.self, CheckPassword.self, Audit.self,
        ]
    )
}
