/// Why the trail cannot be opened or written. Each names the file; none quotes a line.
public enum AuditError: Error, Sendable, Hashable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    /// Another process (a second daemon on the same state directory) holds the trail's lock.
    case inUse(path: String)
    /// The last complete line is not an audit line: the file was edited or is not a trail.
    case lastLineUnreadable(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case signingKey(path: String, reason: String)
    case rotateFailed(path: String, reason: String)
    case closed(path: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "\(path): cannot open the audit trail: \(reason)"
        case .inUse(let path): "\(path): the audit trail is locked by another process (a second daemon with the same state directory?)"
        case .lastLineUnreadable(let path, let reason):
            "\(path): the last line is not an audit line (\(reason)); check it with `writebackctl audit verify`, then move the file aside to start a new trail"
        case .writeFailed(let path, let reason): "\(path): cannot append to the audit trail: \(reason)"
        case .signingKey(let path, let reason): "[audit] signing_key \(path): \(reason)"
        case .rotateFailed(let path, let reason): "\(path): cannot rotate the audit trail: \(reason)"
        case .closed(let path): "\(path): the audit trail is closed"
        }
    }
}
