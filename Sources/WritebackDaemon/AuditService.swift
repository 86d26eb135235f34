import AuditTrail
import Logging
import ServiceLifecycle
import WritebackCore

/// Signs the trail's unsigned lines once the oldest is `[audit] batch_seconds` old, so a quiet
/// daemon's last requests do not wait for the next busy hour to be vouched for. (Every
/// `batch_lines` lines the writer signs by itself; at shutdown `Daemon` closes the trail,
/// which signs what is left.)
final class AuditService: Service, Sendable {
    let trail: AuditWriter
    let config: AuditConfig
    let logger: Logger

    init(trail: AuditWriter, config: AuditConfig, logger: Logger) {
        self.trail = trail; self.config = config; self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            let tick = Duration.seconds(max(1, min(self.config.batchSeconds, 5)))
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                do { try await self.trail.signIfDue() } catch {
                    self.logger.error("audit trail not signed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    static func logOpened(_ trail: AuditWriter, config: AuditConfig, logger: Logger) {
        let opened = trail.opened
        if let torn = opened.repairedTorn {
            logger.warning("audit trail: cut off a torn last line left by a crash mid-append; recorded in the open line", metadata: [
                "file": "\(config.path)", "torn_bytes": "\(torn.bytes)", "torn_sha256": "\(torn.sha256)",
            ])
        }
        if !opened.signed {
            logger.warning("audit trail is hash-chained but not signed: set [audit] signing_key (writebackctl keygen --audit)",
                           metadata: ["file": "\(config.path)"])
        }
        logger.info("audit trail open", metadata: ["file": "\(config.path)", "next_seq": "\(opened.nextSeq)"])
    }
}
