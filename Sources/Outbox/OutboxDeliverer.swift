import Foundation
import Logging
import ServiceLifecycle
import WritebackCore

/// Delivers the outbox with `[outbox] sendmail` (DESIGN.md "Outbox"): pipes each message in
/// `new/` to the command, moves it to `sent/` when the command accepts it, retries failures
/// with exponential backoff, and after `maxAttempts` or `maxAge` moves it to `failed/` with a
/// `<name>.reason` file. Each outcome is a line in `outbox.jsonl` (`sent`: true, or
/// `event`: `failed`); retry state lives in `state/<name>.json` and survives restarts.
///
/// Delivery to the MTA is at least once: a crash after the command accepted a message and
/// before the move to `sent/` sends it again; both copies carry the same `Message-ID`.
///
/// A `Service`: `run()` scans `new/` every `pollInterval`, or at once when `wake()` is called
/// (the writer calls it after publishing), until graceful shutdown or cancellation; a command
/// that is running then is interrupted and does not count as an attempt. The actor runs on its
/// own dispatch queue because waiting for the command blocks.
public actor OutboxDeliverer: Service {
    private nonisolated let executor = QueueExecutor(label: "writebackd.outbox.deliverer")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let command: SendmailCommand
    private let policy: OutboxDeliveryPolicy
    private let logger: Logger
    private let directory: OutboxDirectory
    private let journal: OutboxJournal
    private let signal = WakeSignal()
    private let now: @Sendable () -> Date
    private var prepared = false

    /// Throws when `config.sendmail` is empty or cannot be used.
    public init(config: OutboxConfig, logger: Logger, policy: OutboxDeliveryPolicy = .init(),
                now: @escaping @Sendable () -> Date = { Date() }) throws(OutboxError) {
        guard !config.sendmail.isEmpty else { throw .invalidSendmailCommand("no command configured") }
        command = try SendmailCommand(parsing: config.sendmail)
        self.policy = policy
        self.logger = logger
        directory = OutboxDirectory(path: config.dir)
        journal = OutboxJournal(path: directory.journalPath)
        self.now = now
    }

    /// Scan `new/` now (called by the writer after it published a message).
    public nonisolated func wake() { signal.signal() }

    /// Ends `run()` after the message being delivered, if any (which is interrupted).
    public nonisolated func stop() { signal.stop() }

    /// The backlog, without waiting for a delivery in progress.
    public nonisolated func backlog() -> OutboxBacklog {
        OutboxBacklog.scan(directory, deliveryEnabled: true, now: Date())
    }

    public func run() async throws {
        logger.info("outbox delivery started", metadata: ["command": "\(command.executable)"])
        await withGracefulShutdownHandler {
            while !signal.isStopped, !Task.isCancelled {
                let pass = deliverDue()
                var wait = policy.pollInterval
                if let due = pass.nextDue {
                    let untilDue = max(0.01, due.timeIntervalSince(now()))
                    wait = min(wait, .milliseconds(Int64(untilDue * 1000)))
                }
                await signal.wait(timeout: wait)
            }
        } onGracefulShutdown: {
            self.stop()
        }
        logger.info("outbox delivery stopped")
    }

    /// One scan of `new/`: tries every message that is due, oldest first.
    @discardableResult
    public func deliverDue() -> DeliveryPass {
        var pass = DeliveryPass()
        if !prepared {
            do { try directory.prepare(cleaning: .deliverer); prepared = true } catch {
                logger.error("outbox unusable", metadata: ["reason": "\(error)"])
                return pass
            }
        }
        let names = directory.names(in: .new).filter { $0.hasSuffix(".eml") }
            .map { ($0, directory.modified(directory.path(.new, $0)) ?? .distantPast) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        for (name, written) in names {
            if signal.isStopped || Task.isCancelled { break }
            let record = loadRecord(name)
            if let record, record.nextAttemptAt > now().timeIntervalSince1970 {
                pass.waiting += 1
                pass.nextDue = earliest(pass.nextDue, Date(timeIntervalSince1970: record.nextAttemptAt))
                continue
            }
            guard let data = FileManager.default.contents(atPath: directory.path(.new, name)) else { continue }
            let result = command.run(data, timeout: policy.commandTimeout, abort: { [signal] in signal.isStopped })
            if result.aborted { break }
            do {
                if result.succeeded {
                    try delivered(name, data, written: written, attempts: (record?.attempts ?? 0) + 1)
                    pass.delivered += 1
                } else {
                    let next = try failedAttempt(name, data, written: written, record: record, result: result)
                    if let next {
                        pass.deferred += 1
                        pass.nextDue = earliest(pass.nextDue, next)
                    } else {
                        pass.failed += 1
                    }
                }
            } catch {
                logger.error("outbox: cannot record a delivery", metadata: ["file": "\(name)", "reason": "\(error)"])
            }
        }
        return pass
    }

    private func delivered(_ name: String, _ data: Data, written: Date, attempts: Int) throws(OutboxError) {
        try directory.move(name, from: .new, to: .sent)
        unlink(directory.path(.state, stateName(name)))
        let message = StoredMessage(name: name, data: data)
        try journal.append(line(message, event: "sent", file: directory.path(.sent, name), written: written,
                                sent: true, attempts: attempts, error: nil))
        logger.info("outbox: message delivered", metadata: [
            "request_id": "\(message.requestID)", "file": "\(name)", "attempts": "\(attempts)",
        ])
    }

    /// Records a failed attempt; returns when to retry, or nil after moving it to `failed/`.
    private func failedAttempt(_ name: String, _ data: Data, written: Date, record: DeliveryRecord?,
                               result: SendmailResult) throws(OutboxError) -> Date? {
        let current = now()
        let attempts = (record?.attempts ?? 0) + 1
        let age = current.timeIntervalSince(written)
        let message = StoredMessage(name: name, data: data)
        var log = logger
        log[metadataKey: "request_id"] = "\(message.requestID)"
        log[metadataKey: "file"] = "\(name)"
        log[metadataKey: "attempts"] = "\(attempts)"
        log[metadataKey: "reason"] = "\(result.summary)"
        if result.isPermanent || attempts >= policy.maxAttempts || age >= policy.maxAge {
            let why = result.isPermanent ? "the command refused the message permanently"
                : attempts >= policy.maxAttempts ? "\(attempts) attempts failed" : "older than \(Int(policy.maxAge)) s"
            let reason = """
                \(why)
                message: \(name)
                attempts: \(attempts)
                first attempt: \(MailDate.rfc3339(Date(timeIntervalSince1970: record?.firstAttemptAt ?? current.timeIntervalSince1970)))
                last attempt: \(MailDate.rfc3339(current))
                last result: \(result.summary)
                To retry, move the message back to new/ (and delete state/\(stateName(name)) if present).

                """
            try directory.replace(directory.path(.failed, reasonName(name)), with: Data(reason.utf8))
            try directory.move(name, from: .new, to: .failed)
            unlink(directory.path(.state, stateName(name)))
            try journal.append(line(message, event: "failed", file: directory.path(.failed, name), written: written,
                                    sent: false, attempts: attempts, error: "\(why): \(result.summary)"))
            log.error("outbox: delivery given up, message moved to failed/")
            return nil
        }
        let next = current.addingTimeInterval(policy.backoff(afterAttempt: attempts))
        let updated = DeliveryRecord(
            attempts: attempts, firstAttemptAt: record?.firstAttemptAt ?? current.timeIntervalSince1970,
            lastAttemptAt: current.timeIntervalSince1970, nextAttemptAt: next.timeIntervalSince1970,
            lastError: result.summary)
        let encoded: Data
        do { encoded = try JSONEncoder().encode(updated) } catch {
            throw .io(operation: "encode retry record", path: name, reason: "\(error)")
        }
        try directory.replace(directory.path(.state, stateName(name)), with: encoded)
        log.warning("outbox: delivery failed, will retry", metadata: ["next_attempt": "\(MailDate.rfc3339(next))"])
        return next
    }

    private func line(_ message: StoredMessage, event: String, file: String, written: Date, sent: Bool,
                      attempts: Int, error: String?) -> OutboxJournalLine {
        OutboxJournalLine(
            requestID: message.requestID, n: message.n, event: event, audience: message.audience, to: message.to,
            subject: message.subject, locale: message.locale, kind: message.kind, file: file,
            messageID: message.messageID, createdAt: MailDate.rfc3339(written), sent: sent, skipped: nil,
            sentAt: sent ? MailDate.rfc3339(now()) : nil, attempts: attempts, error: error)
    }

    private func loadRecord(_ name: String) -> DeliveryRecord? {
        guard let data = FileManager.default.contents(atPath: directory.path(.state, stateName(name))) else { return nil }
        return try? JSONDecoder().decode(DeliveryRecord.self, from: data)
    }

    private func stateName(_ name: String) -> String { "\(name).json" }
    private func reasonName(_ name: String) -> String { String(name.dropLast(4)) + ".reason" }
    private func earliest(_ a: Date?, _ b: Date) -> Date { a.map { min($0, b) } ?? b }
}
