import Foundation
import Logging
import WritebackCore

/// Writes the confirmation e-mails of succeeded requests into the outbox (DESIGN.md "Outbox"):
/// the user's message to `mail` + alternate mail, and for an administrator's reset a second one
/// to `admin_notify`. Never a password: a `Confirmation` holds none.
///
/// Exactly once per request id. A request's messages have fixed numbers (1 user, 2 admin);
/// a number is done when `outbox.jsonl` has its line. Each message is published atomically
/// first and its line appended after, so a crash between the two leaves a message without a
/// line: the next call finds the file (in `new/`, `sent/` or `failed/`), appends the missing
/// line and writes only what is still missing. The set of recorded numbers is read from the
/// journal once, then kept in memory.
///
/// An actor on its own dispatch queue: the fsyncs block that thread, never the cooperative
/// pool, and calls for the same request are serialised.
public actor OutboxWriter: ConfirmationNotifier {
    private nonisolated let executor = QueueExecutor(label: "writebackd.outbox.writer")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let config: OutboxConfig
    private let logger: Logger
    private let directory: OutboxDirectory
    private let journal: OutboxJournal
    private let templates: OutboxTemplates
    private let templateProblems: [OutboxError]
    private let onWritten: (@Sendable () -> Void)?
    private var recorded: Set<String>?
    /// `from` and `admin_notify` parsed once: per confirmation they cost 1 % of the daemon's CPU
    /// in the drain profile. `from` is nil when invalid (every confirmation then fails with it).
    private let from: MailAddress?
    private let adminNotify: [MailAddress]

    /// `onWritten` is called after a call wrote at least one message (the daemon passes the
    /// deliverer's `wake`, so delivery does not wait for the next poll).
    public init(config: OutboxConfig, logger: Logger, onWritten: (@Sendable () -> Void)? = nil) {
        self.config = config
        self.logger = logger
        self.directory = OutboxDirectory(path: config.dir)
        self.journal = OutboxJournal(path: directory.journalPath)
        (templates, templateProblems) = OutboxTemplates.load(overridesIn: config.templatesDir)
        self.onWritten = onWritten
        self.from = MailAddress(parsing: config.from)
        self.adminNotify = MailAddress.deduplicated(config.adminNotify).valid
    }

    /// The usual wiring: wake `deliverer` (if any) after each message written.
    public init(config: OutboxConfig, logger: Logger, deliverer: OutboxDeliverer?) {
        self.init(config: config, logger: logger, onWritten: deliverer.map { deliverer in { @Sendable in deliverer.wake() } })
    }

    /// The checks a configuration must pass: `from`, `admin_notify`, the templates, and the
    /// sendmail command line. For the config loader and `doctor`.
    public static func validate(_ config: OutboxConfig) throws(OutboxError) {
        guard MailAddress(parsing: config.from) != nil else { throw .invalidFromAddress(config.from) }
        for entry in config.adminNotify where MailAddress(parsing: entry) == nil {
            throw .invalidFromAddress(entry)
        }
        try OutboxTemplates.validate(overridesIn: config.templatesDir)
        if !config.sendmail.isEmpty { _ = try SendmailCommand(parsing: config.sendmail) }
    }

    /// Creates the folders, reports template problems, loads what the journal records.
    private func prepare() throws(OutboxError) -> Set<String> {
        if let recorded { return recorded }
        try directory.prepare(cleaning: .writer)
        for problem in templateProblems {
            logger.error("outbox template ignored, using the built-in one", metadata: ["reason": "\(problem)"])
        }
        let keys = journal.recordedKeys()
        recorded = keys
        return keys
    }

    /// Confirmations waiting for the next batch, and that batch (nil: none scheduled).
    private var waiting: [Confirmation] = []
    private var nextBatch: Task<[Result<[String], OutboxError>], Never>?

    /// Group commit: confirmations that arrive while a batch is being written go into the
    /// next one, which pays one directory fsync and one journal fsync for all its messages
    /// (each message file is still fsynced before its rename). Returns once this
    /// confirmation's messages and journal lines are durable. Measured (`make bench`, drain):
    /// three fsyncs per request on one serial queue were the daemon's throughput limit.
    public func confirm(_ confirmation: Confirmation) async throws {
        let index = waiting.count
        waiting.append(confirmation)
        let batch: Task<[Result<[String], OutboxError>], Never>
        if let scheduled = nextBatch {
            batch = scheduled
        } else {
            batch = Task { self.takeAndWrite() }
            nextBatch = batch
        }
        _ = try await batch.value[index].get()
    }

    /// Takes every waiting confirmation and writes them as one batch.
    private func takeAndWrite() -> [Result<[String], OutboxError>] {
        let items = waiting
        waiting = []
        nextBatch = nil
        return writeBatch(items)
    }

    /// One confirmation alone (tests, and the shape of one batch element). Returns the paths written.
    @discardableResult
    func write(_ confirmation: Confirmation) throws(OutboxError) -> [String] {
        try writeBatch([confirmation])[0].get()
    }

    /// Writes each confirmation's messages (file fsynced, renamed into `new/`), then fsyncs
    /// `new/` once and appends every journal line in one write and one fsync. A confirmation
    /// that fails alone gets its own error; a failed directory or journal sync fails every
    /// confirmation of the batch that had lines (their messages are recorded on the next call).
    func writeBatch(_ confirmations: [Confirmation]) -> [Result<[String], OutboxError>] {
        var results: [Result<[String], OutboxError>] = []
        var lines: [OutboxJournalLine] = []
        var lineOwners: Set<Int> = []
        var published = false
        for (i, confirmation) in confirmations.enumerated() {
            do throws(OutboxError) {
                let (paths, newLines) = try compose(confirmation)
                if !paths.isEmpty { published = true }
                if !newLines.isEmpty { lineOwners.insert(i) }
                lines += newLines
                results.append(.success(paths))
            } catch {
                results.append(.failure(error))
            }
        }
        do throws(OutboxError) {
            if published { try directory.syncDirectory(directory.path(.new)) }
            try journal.append(lines)
        } catch {
            recorded = nil   // re-read the journal next time: which lines landed is unknown
            for i in lineOwners { results[i] = .failure(error) }
            return results
        }
        if results.contains(where: { (try? $0.get())?.isEmpty == false }) { onWritten?() }
        return results
    }

    /// One confirmation's messages published (not yet the directory sync) and the journal
    /// lines they need; marks them done in `recorded`.
    private func compose(_ confirmation: Confirmation) throws(OutboxError) -> ([String], [OutboxJournalLine]) {
        var lines: [OutboxJournalLine] = []
        let id = confirmation.requestId
        guard Self.isSafeName(id) else { throw .unsafeRequestID(id) }
        guard let from else { throw .invalidFromAddress(config.from) }
        // Keys this call adds go to `added` and into `recorded` only at the end: a copy of
        // `recorded` mutated here would copy the whole set (every request ever confirmed) per
        // call (the drain profile showed that copy and its release, growing with N), and
        // a call that throws halfway must not leave its keys marked done.
        _ = try prepare()
        var added: Set<String> = []
        func isDone(_ key: String) -> Bool { recorded?.contains(key) == true || added.contains(key) }
        let composer = ConfirmationComposer(
            from: from, organization: config.organization,
            adminNotify: adminNotify, templates: templates)
        let (slots, invalid) = composer.compose(confirmation)
        var log = logger
        log[metadataKey: "request_id"] = "\(id)"
        if !invalid.isEmpty {
            log.warning("outbox: mail addresses ignored", metadata: ["addresses": "\(invalid)"])
        }
        var written: [String] = []
        for slot in slots {
            switch slot {
            case .skipped(let n, let audience, let locale, let reason):
                guard !isDone("\(id)-\(n)") else { continue }
                lines.append(OutboxJournalLine(
                    requestID: id, n: n, event: "skipped", audience: audience, to: [], subject: nil,
                    locale: locale.rawValue, kind: confirmation.kind.rawValue, file: nil, messageID: nil,
                    createdAt: MailDate.rfc3339(Date()), sent: false, skipped: reason))
                log.info("outbox: no message for the user", metadata: ["reason": "\(reason)"])
                added.insert("\(id)-\(n)")
            case .message(let message):
                let key = "\(id)-\(message.slot)"
                guard !isDone(key) else { continue }
                let name = "\(key).eml"
                var path: String
                var createdAt = Date()
                var sent = false
                if let folder = directory.locate(name) {
                    // Published before a crash, line never appended: record it now, once.
                    path = directory.path(folder, name)
                    createdAt = directory.modified(path) ?? createdAt
                    sent = folder == .sent
                    log.notice("outbox: recording a message written before a restart", metadata: ["file": "\(path)"])
                } else {
                    path = try directory.publish(message.data, as: name, syncDirectory: false)
                    written.append(path)
                }
                lines.append(OutboxJournalLine(
                    requestID: id, n: message.slot, event: "written", audience: message.audience,
                    to: message.recipients.map(\.address), subject: message.subject,
                    locale: message.locale.rawValue, kind: confirmation.kind.rawValue, file: path,
                    messageID: "<\(message.messageID)>", createdAt: MailDate.rfc3339(createdAt), sent: sent))
                added.insert(key)
                log.info("outbox: message written", metadata: [
                    "file": "\(path)", "audience": "\(message.audience.rawValue)", "locale": "\(message.locale.rawValue)",
                ])
            }
        }
        for key in added { recorded?.insert(key) }
        return (written, lines)
    }

    /// Letters, digits, `-` and `_`, starting with a letter or digit: safe as a file name and
    /// inside a `Message-ID`. Request ids are UUIDs, which pass.
    static func isSafeName(_ id: String) -> Bool {
        guard let first = id.utf8.first, id.utf8.count <= 128, isAlnum(first) else { return false }
        return id.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
