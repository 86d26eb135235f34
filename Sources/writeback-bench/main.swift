import Foundation

// writeback-bench: figures and ratios against baselines measured in the same run.
//   writeback-bench directory [--users N] [--connections C] [--ldappasswd-users M]
//   writeback-bench policy
//   writeback-bench drain --bin-dir DIR [--requests N] [--scales N,N,…] [--latency-requests N]
//                         [--history-requests N] [--fsync-requests N] [--ldappasswd-users N]
//                         [--connections C] [--results-dir DIR]
//   writeback-bench drain-compare --bin-dir DIR --baseline-bin-dir DIR [--requests N] [--rounds R]
//                                 [--connections C] [--env K=V] [--results-dir DIR]
//   writeback-bench faults --bin-dir DIR [--short] [--results-dir DIR]
//   writeback-bench pickup [--requests N] [--idle-seconds S] [--poll-interval-ms MS]
//                          [--terminal-poll-us US] [--backend both|sqlite|postgres]
let usage = """
    usage: writeback-bench directory [--users N] [--connections C] [--ldappasswd-users M]
           writeback-bench policy
           writeback-bench drain --bin-dir DIR [--requests N] [--scales N,N,...] [--latency-requests N]
                                 [--history-requests N] [--fsync-requests N] [--ldappasswd-users N]
                                 [--connections C] [--results-dir DIR]
           writeback-bench drain-compare --bin-dir DIR --baseline-bin-dir DIR [--requests N] [--rounds R]
                                         [--connections C] [--env K=V] [--results-dir DIR]
           writeback-bench faults --bin-dir DIR [--short] [--results-dir DIR] [--only NAME,NAME]
           writeback-bench pickup [--requests N] [--idle-seconds S] [--poll-interval-ms MS]
                                  [--terminal-poll-us US] [--backend both|sqlite|postgres]

    """
signal(SIGPIPE, SIG_IGN)   // a checker that exits early must not end the bench
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "directory":
        try await DirectoryBench(arguments: Array(arguments.dropFirst())).run()
    case "policy":
        try await runPolicyBench()
    case "drain":
        try await DrainBench(arguments: Array(arguments.dropFirst())).run()
    case "drain-compare":
        try await DrainCompare(arguments: Array(arguments.dropFirst())).run()
    case "faults":
        try await FaultsBench(arguments: Array(arguments.dropFirst())).run()
    case "pickup":
        try await PickupBench(arguments: Array(arguments.dropFirst())).run()
    default:
        FileHandle.standardError.write(Data(usage.utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("writeback-bench: \(error)\n".utf8))
    exit(1)
}

/// Output lines go straight to fd 1, unbuffered, so a long run's progress shows in a log as it
/// happens (this shadows Swift's buffered `print` in this module).
func print(_ line: String = "") {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
