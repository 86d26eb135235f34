import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How one run of the sendmail command ended.
struct SendmailResult: Sendable, Hashable {
    /// The exit status, or nil when the command was killed (signal or timeout).
    var exitStatus: Int32?
    var timedOut: Bool
    /// Killed because the deliverer stopped: not an attempt.
    var aborted: Bool
    /// The end of what the command wrote on stdout/stderr, for the `.reason` file and logs.
    var output: String

    var succeeded: Bool { exitStatus == 0 }

    /// sysexits.h codes after which a retry cannot help: the message or address is bad.
    var isPermanent: Bool { exitStatus == 65 /* EX_DATAERR */ || exitStatus == 67 /* EX_NOUSER */ }

    var summary: String {
        let what = aborted ? "interrupted by shutdown" : timedOut ? "timed out" : exitStatus.map { "exit status \($0)" } ?? "killed by a signal"
        let detail = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return detail.isEmpty ? what : "\(what): \(detail)"
    }
}

/// `[outbox] sendmail`: a sendmail-compatible command line ("/usr/sbin/sendmail -t -i",
/// "/usr/bin/msmtp -t"), split into an argument vector once — quotes and backslashes as a
/// shell would treat them, but no shell runs, so nothing in the line is interpreted.
/// Each message is piped to a fresh process on its stdin; exit status 0 means accepted.
struct SendmailCommand: Sendable, Hashable {
    let executable: String
    let arguments: [String]

    init(parsing line: String) throws(OutboxError) {
        let words = try SendmailCommand.split(line)
        guard let first = words.first else { throw .invalidSendmailCommand("empty command") }
        guard let resolved = SendmailCommand.resolve(first) else {
            throw .invalidSendmailCommand("\(first) is not an executable file")
        }
        executable = resolved
        arguments = Array(words.dropFirst())
    }

    /// Splits like a POSIX shell's word splitting and quote removal, nothing more.
    static func split(_ line: String) throws(OutboxError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = line.makeIterator()
        while let c = iterator.next() {
            switch c {
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'":
                inWord = true
                var closed = false
                while let q = iterator.next() { if q == "'" { closed = true; break }; current.append(q) }
                guard closed else { throw .invalidSendmailCommand("unterminated ' quote") }
            case "\"":
                inWord = true
                var closed = false
                while let q = iterator.next() {
                    if q == "\"" { closed = true; break }
                    if q == "\\", let next = iterator.next() {
                        if !"\"\\$`".contains(next) { current.append("\\") }
                        current.append(next)
                    } else { current.append(q) }
                }
                guard closed else { throw .invalidSendmailCommand("unterminated \" quote") }
            case "\\":
                inWord = true
                guard let next = iterator.next() else { throw .invalidSendmailCommand("trailing backslash") }
                current.append(next)
            default:
                inWord = true
                current.append(c)
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// An absolute or relative path as is; a bare name through `PATH`.
    static func resolve(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in path.split(separator: ":") where access("\(directory)/\(name)", X_OK) == 0 {
            return "\(directory)/\(name)"
        }
        return nil
    }

    /// Runs the command with `message` on stdin. Blocks the calling thread (the deliverer's own)
    /// until the command exits or `timeout` passes; then its process group is killed.
    func run(_ message: Data, timeout: TimeInterval, abort: @escaping @Sendable () -> Bool = { false }) -> SendmailResult {
        SendmailProcess(command: self, timeout: timeout, abort: abort).run(message)
    }
}
