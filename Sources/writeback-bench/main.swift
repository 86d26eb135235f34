import Foundation

// writeback-bench: figures and ratios against baselines measured in the same run.
//   writeback-bench directory [--users N] [--connections C] [--ldappasswd-users M]
//   writeback-bench policy
//   writeback-bench pickup [--requests N] [--idle-seconds S] [--poll-interval-ms MS]
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "directory":
        try await DirectoryBench(arguments: Array(arguments.dropFirst())).run()
    case "policy":
        try await runPolicyBench()
    case "pickup":
        try await PickupBench(arguments: Array(arguments.dropFirst())).run()
    default:
        FileHandle.standardError.write(Data("""
            usage: writeback-bench directory [--users N] [--connections C] [--ldappasswd-users M]
                   writeback-bench policy
                   writeback-bench pickup [--requests N] [--idle-seconds S] [--poll-interval-ms MS]

            """.utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("writeback-bench: \(error)\n".utf8))
    exit(1)
}
