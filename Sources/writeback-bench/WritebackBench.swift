import ArgumentParser
import Foundation

/// `writeback-bench`: figures and ratios against baselines measured in the same run
/// (`make bench`, `make faults`). Each subcommand fills its bench's settings and runs it.
@main
struct WritebackBench: AsyncParsableCommand {
    /// ArgumentParser's own entry, with SIGPIPE ignored first: a checker that exits early
    /// must not end the bench.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand { try await command.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "writeback-bench",
        abstract: "writebackd's benchmarks and fault runs, each against baselines measured in the same run.",
        subcommands: [Directory.self, Policy.self, Drain.self, DrainCompareCommand.self, Faults.self, Pickup.self])

    /// The release build under test: must hold an executable `writebackd`.
    static func checkBinDir(_ dir: String, _ option: String) throws {
        guard FileManager.default.isExecutableFile(atPath: dir + "/writebackd") else {
            throw ValidationError("\(option) \(dir): no executable writebackd there")
        }
    }

    struct Directory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The LDAP pool against raw C over libldap and an ldappasswd loop.")
        @Option(help: "Users reset per contender.") var users = 3000
        @Option(help: "Directory connections.") var connections = 4
        @Option(help: "Users reset by the ldappasswd loop.") var ldappasswdUsers = 200

        func validate() throws {
            guard users > 0, connections > 0, ldappasswdUsers > 0 else { throw ValidationError("every number must be positive") }
        }

        func run() async throws {
            var bench = DirectoryBench()
            (bench.users, bench.connections, bench.ldappasswdUsers) = (users, connections, ldappasswdUsers)
            try await bench.run()
        }
    }

    struct Policy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The policy engine against its own goals.")
        func run() async throws { try await runPolicyBench() }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The whole daemon draining its queue, against C baselines A, A1 and ldappasswd (B).")
        @Option(help: "The release build holding writebackd.") var binDir: String
        @Option(help: "Requests in the main drain.") var requests = 10_000
        @Option(help: "Drain sizes for the cost per request, comma separated.") var scales = "1000,10000"
        @Option(help: "Requests arriving one at a time (enqueue → written).") var latencyRequests = 100
        @Option(help: "Requests under the default policy (history 24, scrypt).") var historyRequests = 200
        @Option(help: "Requests in the round with slapd's fsync on.") var fsyncRequests = 2_000
        @Option(help: "Users reset by baseline B, one ldappasswd each.") var ldappasswdUsers = 200
        @Option(help: "Directory connections.") var connections = 4
        @Option(help: "Where the JSON results go.") var resultsDir = "bench/results"

        var scaleList: [Int] { scales.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 } }

        func validate() throws {
            try WritebackBench.checkBinDir(binDir, "--bin-dir")
            guard !scaleList.isEmpty else { throw ValidationError("--scales needs numbers, e.g. 1000,10000") }
            guard requests > 0, connections > 0, [latencyRequests, historyRequests, fsyncRequests, ldappasswdUsers].allSatisfy({ $0 >= 0 })
            else { throw ValidationError("--requests and --connections must be positive, the other counts at least 0") }
        }

        func run() async throws {
            var bench = DrainBench()
            bench.binDir = binDir; bench.requests = requests; bench.scales = scaleList
            bench.latencyRequests = latencyRequests; bench.historyRequests = historyRequests; bench.fsyncRequests = fsyncRequests
            bench.ldappasswdUsers = ldappasswdUsers; bench.connections = connections; bench.resultsDir = resultsDir
            try await bench.run()
        }
    }

    struct DrainCompareCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "drain-compare", abstract: "Two builds (or one build with and without a setting) drained in turns, ABBA.")
        @Option(help: "The candidate build.") var binDir: String
        @Option(help: "The build to compare with.") var baselineBinDir: String
        @Option(help: "Requests per drain.") var requests = 5_000
        @Option(help: "Rounds (each drains both builds).") var rounds = 4
        @Option(help: "Directory connections.") var connections = 4
        @Option(help: "KEY=VALUE for the candidate's daemon only (repeatable).") var env: [String] = []
        @Option(help: "Where the JSON results go.") var resultsDir = "bench/results"

        func validate() throws {
            try WritebackBench.checkBinDir(binDir, "--bin-dir")
            try WritebackBench.checkBinDir(baselineBinDir, "--baseline-bin-dir")
            guard requests > 0, rounds > 0, connections > 0 else { throw ValidationError("--requests, --rounds and --connections must be positive") }
            for pair in env where pair.firstIndex(of: "=").map({ $0 == pair.startIndex }) ?? true {
                throw ValidationError("--env \(pair): needs KEY=VALUE")
            }
        }

        func run() async throws {
            var bench = DrainCompare()
            bench.binDir = binDir; bench.baselineDir = baselineBinDir; bench.requests = requests; bench.rounds = rounds
            bench.connections = connections; bench.resultsDir = resultsDir
            for pair in env {
                let eq = pair.firstIndex(of: "=")!
                bench.candidateEnvironment[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
            try await bench.run()
        }
    }

    struct Faults: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The daemon against real slapd while things go wrong; one table, non-zero exit on any failure.")
        @Option(help: "The release build holding writebackd.") var binDir: String
        @Flag(help: "CI's short form.") var short = false
        @Option(help: "Where the JSON results go.") var resultsDir = "bench/results"
        @Option(help: "Only these scenarios, comma separated.") var only: String?

        func validate() throws { try WritebackBench.checkBinDir(binDir, "--bin-dir") }

        func run() async throws {
            var bench = FaultsBench()
            bench.binDir = binDir; bench.short = short; bench.resultsDir = resultsDir
            bench.only = only.map { Set($0.split(separator: ",").map(String.init)) }
            try await bench.run()
        }
    }

    struct Pickup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enqueue → written for requests one at a time, event-driven against polling, and idle CPU.")
        enum Backend: String, ExpressibleByArgument, CaseIterable { case both, sqlite, postgres }
        @Option(help: "Requests per case.") var requests = 200
        @Option(help: "Seconds of idle CPU measured per case.") var idleSeconds = 60
        @Option(help: "The polling case's poll_interval_ms.") var pollIntervalMs = 500
        @Option(help: "How often the bench asks whether a request is terminal, µs.") var terminalPollUs = 2000
        @Option(help: "Which queue backends.") var backend = Backend.both

        func validate() throws {
            guard [requests, idleSeconds, pollIntervalMs, terminalPollUs].allSatisfy({ $0 > 0 }) else { throw ValidationError("every number must be positive") }
        }

        func run() async throws {
            var bench = PickupBench()
            bench.requests = requests; bench.idleSeconds = idleSeconds; bench.pollIntervalMs = pollIntervalMs
            bench.terminalPollUs = terminalPollUs; bench.backend = backend.rawValue
            try await bench.run()
        }
    }
}

/// Output lines go straight to fd 1, unbuffered, so a long run's progress shows in a log as it
/// happens (this shadows Swift's buffered `print` in this module).
func print(_ line: String = "") {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
