/// Where a line sits: the file as given and its 1-based line number.
public struct AuditPosition: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public init(file: String, line: Int) { self.file = file; self.line = line }
    public var description: String { "\(file):\(line)" }
}

/// One way a trail is not what the daemon wrote. Each case names the cause and the line(s).
public enum AuditFinding: Sendable, Hashable, CustomStringConvertible {
    /// The line's bytes changed: its hash is not the `prev` the next line recorded.
    case edited(AuditPosition, seq: Int, next: AuditPosition)
    /// Lines with these seqs are gone (between two lines that are still there).
    case removed(ClosedRange<Int>, after: AuditPosition, before: AuditPosition)
    /// A line that is not where its seq says it belongs.
    case reordered(AuditPosition, seq: Int, after: Int?)
    /// Two lines claim the same seq.
    case duplicated(seq: Int, AuditPosition, AuditPosition)
    /// Not an audit line at all (not JSON, or a required member missing).
    case notAuditLine(AuditPosition, reason: String)
    /// The last line has no newline: a crash mid-append, or an edit.
    case torn(AuditPosition, bytes: Int)
    /// A signature line whose signature does not verify with the given key.
    case badSignature(AuditPosition, seq: Int)
    /// A signature by another key than the one given.
    case wrongKey(AuditPosition, seq: Int, keyID: String, expected: String)
    /// A file's first line does not continue the previous file's last line.
    case brokenLink(from: AuditPosition, to: AuditPosition)
    /// The trail's first line (seq 0) does not start from the genesis hash.
    case badStart(AuditPosition)

    public var description: String {
        switch self {
        case .edited(let p, let seq, let next):
            "edited: \(p) (seq \(seq)): its hash is not the prev recorded by the next line \(next)"
        case .removed(let seqs, let after, let before):
            "removed: \(seqs.count == 1 ? "seq \(seqs.lowerBound)" : "seq \(seqs.lowerBound)-\(seqs.upperBound)") missing between \(after) and \(before)"
        case .reordered(let p, let seq, let after):
            "reordered: \(p) (seq \(seq)) is out of place (\(after.map { "it follows seq \($0)" } ?? "it comes first"))"
        case .duplicated(let seq, let a, let b):
            "duplicated: seq \(seq) at \(a) and \(b)"
        case .notAuditLine(let p, let reason):
            "not an audit line: \(p): \(reason)"
        case .torn(let p, let bytes):
            "torn: \(p): \(bytes) bytes without a newline (a write cut short by a crash; the daemon cuts it off at its next start)"
        case .badSignature(let p, let seq):
            "bad signature: \(p) (seq \(seq)) does not verify: lines before it were changed and the chain rewritten"
        case .wrongKey(let p, let seq, let keyID, let expected):
            "wrong key: \(p) (seq \(seq)) is signed by key \(keyID), not by the given key \(expected)"
        case .brokenLink(let from, let to):
            "broken link: \(to) does not continue \(from) (the previous file's last line)"
        case .badStart(let p):
            "bad start: \(p) (seq 0) does not start from the genesis hash"
        }
    }

    /// A short name for the cause, for `--json`.
    public var cause: String {
        switch self {
        case .edited: "edited"
        case .removed: "removed"
        case .reordered: "reordered"
        case .duplicated: "duplicated"
        case .notAuditLine: "not_audit_line"
        case .torn: "torn"
        case .badSignature: "bad_signature"
        case .wrongKey: "wrong_key"
        case .brokenLink: "broken_link"
        case .badStart: "bad_start"
        }
    }
}
