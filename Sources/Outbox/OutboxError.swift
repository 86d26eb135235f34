import Foundation

/// Why the outbox could not write, load a template or deliver a message. Each case names the
/// cause; none carries message bodies (they never hold passwords, but they do hold personal
/// data that does not belong in logs).
public enum OutboxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A request id that is not safe as a file name (the codec accepts UUIDs only).
    case unsafeRequestID(String)
    /// `[outbox] from` is not `Name <addr@domain>` or `addr@domain`.
    case invalidFromAddress(String)
    /// A file system call failed: what was being done, the path, and `strerror`.
    case io(operation: String, path: String, reason: String)
    /// A template file could not be read or parsed.
    case template(file: String, reason: String)
    /// `[outbox] sendmail` could not be split into an argument vector or names no executable.
    case invalidSendmailCommand(String)

    public var description: String {
        switch self {
        case .unsafeRequestID(let id): "request id \(id.debugDescription) is not usable as a file name"
        case .invalidFromAddress(let from): "[outbox] from \(from.debugDescription) is not an address (\"Name <user@domain>\")"
        case .io(let operation, let path, let reason): "outbox: \(operation) \(path): \(reason)"
        case .template(let file, let reason): "template \(file): \(reason)"
        case .invalidSendmailCommand(let reason): "[outbox] sendmail: \(reason)"
        }
    }

    /// An `.io` error for the current `errno`.
    static func posix(_ operation: String, _ path: String, errno code: Int32 = errno) -> OutboxError {
        .io(operation: operation, path: path, reason: String(cString: strerror(code)))
    }
}
