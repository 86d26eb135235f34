import Foundation

// writeback-bench: figures and ratios against baselines measured in the same run.
//   writeback-bench directory [--users N] [--connections C] [--ldappasswd-users M]
//   writeback-bench policy
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "directory":
        try await DirectoryBench(arguments: Array(arguments.dropFirst())).run()
    case "policy":
        try await runPolicyBench()
    default:
        FileHandle.standardError.write(Data("""
            usage: writeback-bench directory [--users N] [--connections C] [--ldappasswd-users M]
                   writeback-bench policy

            """.utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("writeback-bench: \(error)\n".utf8))
    exit(1)
}
