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
    private let publisher = FilePublisher(label: "writebackd.outbox.publish")
    private let templateProblems: [OutboxError]
    private let onWritten: (@Sendable () -> Void)?
    private var recorded: Set<String>?
    /// Built once, with `from` and `admin_notify` parsed once (per confirmation they cost 1 % of
    /// the daemon's CPU in the drain profile). Nil when `from` is invalid: every confirmation
    /// then fails with it.
    private let composer: ConfirmationComposer?

    /// `onWritten` is called after a call wrote at least one message (the daemon passes the
    /// deliverer's `wake`, so delivery does not wait for the next poll).
    public init(config: OutboxConfig, logger: Logger, onWritten: (@Sendable () -> Void)? = nil) {
        self.config = config
        self.logger = logger
        self.directory = OutboxDirectory(path: config.dir)
        self.journal = OutboxJournal(path: directory.journalPath)
        let templates: OutboxTemplates
        (templates, templateProblems) = OutboxTemplates.load(overridesIn: config.templatesDir)
        self.onWritten = onWritten
        self.composer = MailAddress(parsing: config.from).map { from in
            ConfirmationComposer(from: from, organization: config.organization,
                                 adminNotify: MailAddress.deduplicated(config.adminNotify).valid, templates: templates)
        }
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

    /// One message file a confirmation needs, published before its journal line.
    private struct PlannedFile: Sendable {
        /// Index of the confirmation in its batch.
        let owner: Int
        let name: String
        let data: Data
        let audience: String
        let locale: String
    }

    /// What one confirmation needs: the files to publish, then the journal lines, and the
    /// keys those lines mark done.
    private struct Plan {
        var files: [PlannedFile] = []
        var lines: [OutboxJournalLine] = []
        var keys: Set<String> = []
        var logger: Logger
    }

    /// Writes each confirmation's messages (file fsynced, renamed into `new/`; up to
    /// `FilePublisher.width` files at once), then fsyncs `new/` once and appends every journal
    /// line in one write and one fsync. A confirmation that fails alone gets its own error; a
    /// failed directory or journal sync fails every confirmation of the batch that had lines
    /// (their messages are recorded on the next call).
    func writeBatch(_ confirmations: [Confirmation]) -> [Result<[String], OutboxError>] {
        // A request id twice in one batch: the repeat runs after the first is recorded, so the
        // two never publish the same file at once.
        var seen: Set<String> = []
        let (first, repeats) = confirmations.indices.reduce(into: ([Int](), [Int]())) { split, i in
            if seen.insert(confirmations[i].requestId).inserted { split.0.append(i) } else { split.1.append(i) }
        }
        guard repeats.isEmpty else {
            var results = [Result<[String], OutboxError>?](repeating: nil, count: confirmations.count)
            for part in [first, repeats] {
                for (i, result) in zip(part, writeBatch(part.map { confirmations[$0] })) { results[i] = result }
            }
            return results.map { $0! }
        }

        let plans = confirmations.enumerated().map { i, confirmation in
            Result { () throws(OutboxError) in try plan(confirmation, owner: i) }
        }
        let files = plans.flatMap { (try? $0.get())?.files ?? [] }
        let directory = self.directory
        let published = publisher.publishAll(files) { file in
            Result { () throws(OutboxError) in try directory.publish(file.data, as: file.name, syncDirectory: false) }
        }
        var paths = [[String]](repeating: [], count: confirmations.count)
        var failed: [Int: OutboxError] = [:]
        for (file, result) in zip(files, published) {
            switch result {
            case .success(let path): paths[file.owner].append(path)
            case .failure(let error): failed[file.owner] = failed[file.owner] ?? error
            }
        }

        var results: [Result<[String], OutboxError>] = []
        var lines: [OutboxJournalLine] = []
        var lineOwners: Set<Int> = []
        for (i, plan) in plans.enumerated() {
            switch plan {
            case .failure(let error):
                results.append(.failure(error))
            case .success(let plan):
                if let error = failed[i] { results.append(.failure(error)); continue }
                if !plan.lines.isEmpty { lineOwners.insert(i) }
                lines += plan.lines
                for key in plan.keys { recorded?.insert(key) }
                for (file, path) in zip(plan.files, paths[i]) {
                    plan.logger.info("outbox: message written", metadata: [
                        "file": "\(path)", "audience": "\(file.audience)", "locale": "\(file.locale)",
                    ])
                }
                results.append(.success(paths[i]))
            }
        }
        do throws(OutboxError) {
            if !paths.allSatisfy(\.isEmpty) { try directory.syncDirectory(directory.path(.new)) }
            try journal.append(lines)
        } catch {
            recorded = nil   // re-read the journal next time: which lines landed is unknown
            for i in lineOwners { results[i] = .failure(error) }
            return results
        }
        if results.contains(where: { (try? $0.get())?.isEmpty == false }) { onWritten?() }
        return results
    }

    /// What one confirmation needs written: its message files (not yet published) and its
    /// journal lines. A message published before a crash whose line never landed is found
    /// here and only gets its line. Changes nothing on disk or in `recorded`.
    private func plan(_ confirmation: Confirmation, owner: Int) throws(OutboxError) -> Plan {
        let id = confirmation.requestId
        guard Self.isSafeName(id) else { throw .unsafeRequestID(id) }
        guard let composer else { throw .invalidFromAddress(config.from) }
        // `recorded` is only read here; a copy mutated per call would copy the whole set (every
        // request ever confirmed): the drain profile showed that copy growing with N.
        _ = try prepare()
        var log = logger
        log[metadataKey: "request_id"] = "\(id)"
        var plan = Plan(logger: log)
        func isDone(_ key: String) -> Bool { recorded?.contains(key) == true || plan.keys.contains(key) }
        let (slots, invalid) = composer.compose(confirmation)
        if !invalid.isEmpty {
            log.warning("outbox: mail addresses ignored", metadata: ["addresses": "\(invalid)"])
        }
        for slot in slots {
            switch slot {
            case .skipped(let n, let audience, let locale, let reason):
                guard !isDone("\(id)-\(n)") else { continue }
                plan.lines.append(OutboxJournalLine(
                    requestID: id, n: n, event: "skipped", audience: audience, to: [], subject: nil,
                    locale: locale.rawValue, kind: confirmation.kind.rawValue, file: nil, messageID: nil,
                    createdAt: MailDate.rfc3339(Date()), sent: false, skipped: reason))
                log.info("outbox: no message for the user", metadata: ["reason": "\(reason)"])
                plan.keys.insert("\(id)-\(n)")
            case .message(let message):
                let key = "\(id)-\(message.slot)"
                guard !isDone(key) else { continue }
                let name = "\(key).eml"
                var path = directory.path(.new, name)
                var createdAt = Date()
                var sent = false
                if let folder = directory.locate(name) {
                    // Published before a crash, line never appended: record it now, once.
                    path = directory.path(folder, name)
                    createdAt = directory.modified(path) ?? createdAt
                    sent = folder == .sent
                    log.notice("outbox: recording a message written before a restart", metadata: ["file": "\(path)"])
                } else {
                    plan.files.append(PlannedFile(
                        owner: owner, name: name, data: message.data,
                        audience: message.audience.rawValue, locale: message.locale.rawValue))
                }
                plan.lines.append(OutboxJournalLine(
                    requestID: id, n: message.slot, event: "written", audience: message.audience,
                    to: message.recipients.map(\.address), subject: message.subject,
                    locale: message.locale.rawValue, kind: confirmation.kind.rawValue, file: path,
                    messageID: "<\(message.messageID)>", createdAt: MailDate.rfc3339(createdAt), sent: sent))
                plan.keys.insert(key)
            }
        }
        return plan
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
