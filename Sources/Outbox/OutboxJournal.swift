import Foundation

/// One line of `outbox.jsonl`. The contract's keys (`request_id`, `to`, `subject`, `locale`,
/// `kind`, `file`, `created_at`, `sent`) are always present, `null` where they do not apply;
/// the rest tell an operator what happened: `event` is `written`, `skipped` (no message, with
/// the reason in `skipped`), `sent` (delivered by the sendmail command) or `failed` (given up,
/// with `error`). `n` is the message's number within the request.
public struct OutboxJournalLine: Sendable, Hashable, Codable {
    public var requestID: String
    public var n: Int
    public var event: String
    public var audience: OutboxAudience
    public var to: [String]
    public var subject: String?
    public var locale: String
    public var kind: String
    public var file: String?
    public var messageID: String?
    public var createdAt: String
    public var sent: Bool
    public var skipped: String?
    public var sentAt: String?
    public var attempts: Int?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id", n, event, audience, to, subject, locale, kind, file
        case messageID = "message_id", createdAt = "created_at", sent, skipped, sentAt = "sent_at", attempts, error
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(requestID, forKey: .requestID)
        try c.encode(n, forKey: .n)
        try c.encode(event, forKey: .event)
        try c.encode(audience, forKey: .audience)
        try c.encode(to, forKey: .to)
        try c.encode(subject, forKey: .subject)      // null when skipped
        try c.encode(locale, forKey: .locale)
        try c.encode(kind, forKey: .kind)
        try c.encode(file, forKey: .file)            // null when skipped
        try c.encodeIfPresent(messageID, forKey: .messageID)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(sent, forKey: .sent)
        try c.encodeIfPresent(skipped, forKey: .skipped)
        try c.encodeIfPresent(sentAt, forKey: .sentAt)
        try c.encodeIfPresent(attempts, forKey: .attempts)
        try c.encodeIfPresent(error, forKey: .error)
    }
}

/// Appends to and reads `outbox.jsonl`. Each line is one `write(2)` on an `O_APPEND`
/// descriptor under an exclusive `flock`, followed by `fsync`, so the writer and the deliverer
/// (or a second process) never interleave within a line. A line torn by a crash is completed
/// with a newline before the next append and ignored when read.
struct OutboxJournal: Sendable {
    let path: String

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    func append(_ line: OutboxJournalLine) throws(OutboxError) {
        try append([line])
    }

    /// Several lines in one `write(2)` and one `fsync` (a batch of confirmations); none: nothing.
    func append(_ lines: [OutboxJournalLine]) throws(OutboxError) {
        guard !lines.isEmpty else { return }
        var data = Data()
        for line in lines {
            do { data.append(try Self.encoder.encode(line)) } catch {
                throw .io(operation: "encode journal line", path: path, reason: "\(error)")
            }
            data.append(0x0A)
        }
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, OutboxDirectory.fileMode)
        guard fd >= 0 else { throw .posix("open", path) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw .posix("lock", path) }
        defer { flock(fd, LOCK_UN) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, info.st_size - 1) == 1, last != 0x0A { data.insert(0x0A, at: 0) }
        } else {
            fchmod(fd, OutboxDirectory.fileMode)
        }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        guard written == data.count else { throw .posix("append to", path) }
        guard fsync(fd) == 0 else { throw .posix("fsync", path) }
    }

    /// Every readable line; torn or foreign lines are skipped.
    func lines() -> [OutboxJournalLine] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: 0x0A).compactMap { try? decoder.decode(OutboxJournalLine.self, from: Data($0)) }
    }

    private struct Key: Decodable {
        var request_id: String
        var n: Int
    }

    /// `<request-id>-<n>` of every message or skip recorded: what the writer must not repeat.
    func recordedKeys() -> Set<String> {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        var keys = Set<String>()
        for raw in data.split(separator: 0x0A) {
            if let key = try? decoder.decode(Key.self, from: Data(raw)) { keys.insert("\(key.request_id)-\(key.n)") }
        }
        return keys
    }
}
