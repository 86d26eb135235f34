import AuditTrail
import ControlSocket
import Foundation
import LDAPDirectory
import Logging
import Outbox
import RequestQueue
import ServiceLifecycle
import WritebackConfig
import WritebackCore

/// `writebackd` as a library: loads and checks the configuration, opens the queue, the
/// state store, the directory and the outbox, binds the control socket, then runs one ordered
/// `ServiceGroup` until SIGTERM. The executable only parses arguments and sets up logging.
///
/// Service order: monitor, reload (SIGHUP), control socket, queue worker. Shutdown runs in
/// reverse, so the worker drains first while the control socket still answers `draining`.
public enum Daemon {
    /// Exit status: 0 after a graceful shutdown, 1 when the configuration or a resource it
    /// names is refused at start.
    public static func run(configPath: String, logger: Logger) async -> Int32 {
        let config: Configuration
        do {
            config = try ConfigLoader.load(path: configPath)
        } catch {
            var metadata: Logger.Metadata = ["file": "\(error.file)", "reason": "\(error.reason)"]
            if let key = error.key { metadata["key"] = "\(key)" }
            if let line = error.line { metadata["line"] = "\(line)" }
            logger.critical("configuration refused: \(error.description)", metadata: metadata)
            return 1
        }
        do {
            return try await run(config: config, configPath: configPath, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)", metadata: ["file": "\(configPath)"])
            return 1
        }
    }

    static func run(config: Configuration, configPath: String, logger: Logger) async throws -> Int32 {
        let runtime = try DaemonRuntime(config: config)
        let queue = try await Storage.queue(config.queue, logger: logger)
        let stateStore = try await Storage.state(config.state, logger: logger)
        var services: [LDAPDirectoryService] = []
        for d in config.directories {
            do { services.append(try LDAPDirectoryService(config: d, logger: logger)) } catch {
                for s in services { await s.shutdown() }
                throw config.directories.count > 1 ? DirectoryStartError(name: d.name, error: error) : error
            }
        }
        let perConnection = PipelineDepth.perConnection(environment: ProcessInfo.processInfo.environment)
        let lanes = zip(config.directories, services).map { d, service in
            DirectoryLane(name: d.name, directory: FaultyDirectory.wrapping(service, name: d.name, connections: d.connections),
                          connections: d.connections, requestsPerConnection: perConnection)
        }
        let workers = lanes.reduce(0) { $0 + $1.capacity }
        try OutboxWriter.validate(config.outbox)
        // With a sendmail command, a deliverer service sends what the writer publishes.
        var deliverer: OutboxDeliverer?
        if !config.outbox.sendmail.isEmpty { deliverer = try OutboxDeliverer(config: config.outbox, logger: logger) }
        var onWritten: (@Sendable () -> Void)?
        if let deliverer { onWritten = { deliverer.wake() } }
        let notifier = OutboxWriter(config: config.outbox, logger: logger, onWritten: onWritten)
        let state = DaemonState(runtime: runtime)
        let metrics = DaemonMetrics(directories: config.directories.map(\.name))
        let systemd = SystemdNotifier()
        let hashes = HistoryHashPool(threads: max(2, ProcessInfo.processInfo.activeProcessorCount))
        let owner = "\(DaemonOwner.hostName()):\(getpid()):\(UUID().uuidString.prefix(8))"
        let auditTrail: AuditWriter
        do {
            auditTrail = try AuditWriter(.init(config: config.audit, owner: owner, version: WritebackDaemonInfo.version),
                                         onSigned: { seq, hash in
                                             logger.info("audit batch signed", metadata: ["audit_seq": "\(seq)", "audit_hash": "\(hash)"])
                                         })
        } catch {
            for s in services { await s.shutdown() }
            throw error
        }
        AuditService.logOpened(auditTrail, config: config.audit, logger: logger)
        let processor = RequestProcessor(
            queue: queue, stateStore: stateStore, lanes: lanes, notifier: notifier, auditTrail: auditTrail, hashes: hashes,
            state: state, metrics: metrics, logger: logger, owner: owner, clock: { Date() })
        let wakeSource = Storage.wakeSource(for: queue, config: config.queue, logger: logger)
        let worker = QueueWorkerService(processor: processor, queue: queue, state: state, systemd: systemd,
                                        logger: logger, workers: workers, wakeSource: wakeSource)
        let backlog = OutboxBacklogScanner(config.outbox)
        let monitor = MonitorService(queue: queue, stateStore: stateStore, lanes: lanes, state: state,
                                     metrics: metrics, systemd: systemd, logger: logger, wakeSource: wakeSource,
                                     outboxBacklog: { backlog.scan() })
        let reloader = ConfigReloader(path: configPath, state: state, logger: logger, directories: lanes.map(\.directory))
        let handler = DaemonControlHandler(queue: queue, state: state, metrics: metrics, monitor: monitor, reloader: reloader,
                                           worker: worker, lanes: lanes, outboxBacklog: { backlog.scan() }, logger: logger)
        let server: ControlServer
        do {
            server = try await ControlServer(path: config.control.socket, group: config.control.group,
                                             adminGroup: config.control.adminGroup, handler: handler, logger: logger)
        } catch let error as ControlServerError {
            logger.critical("control socket refused: \(error)", metadata: ["file": "\(configPath)", "key": "control"])
            for s in services { await s.shutdown() }
            return 1
        }

        var metricsHTTP: MetricsHTTPService?
        if let (host, port) = config.control.metricsEndpoint {
            do {
                metricsHTTP = try await MetricsHTTPService(host: host, port: port, metrics: metrics, logger: logger)
            } catch {
                logger.critical("metrics listener refused: \(error)", metadata: ["file": "\(configPath)", "key": "control.metrics_listen"])
                for s in services { await s.shutdown() }
                return 1
            }
        }

        let status = await monitor.refresh(now: Date())
        systemd.ready(status: status)
        logger.info("writebackd \(WritebackDaemonInfo.version) ready", metadata: [
            "config": "\(configPath)", "socket": "\(config.control.socket)", "workers": "\(workers)",
            "directories": "\(config.directories.map(\.name).joined(separator: ","))",
            "poll_interval_ms": "\(config.queue.pollIntervalMs)", "status": "\(status)",
        ])

        var group: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: AuditService(trail: auditTrail, config: config.audit, logger: logger), serviceName: "audit"),
            .init(service: monitor, serviceName: "monitor"),
        ]
        if let deliverer { group.append(.init(service: deliverer, serviceName: "outbox-delivery")) }
        if let metricsHTTP { group.append(.init(service: metricsHTTP, serviceName: "metrics-http")) }
        var groupConfig = ServiceGroupConfiguration(
            services: group + [
                .init(service: reloader, serviceName: "reload"),
                .init(service: ControlService(server: server), serviceName: "control"),
                .init(service: worker, serviceName: "queue-worker"),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfig.maximumGracefulShutdownDuration = Duration.seconds(9)
        groupConfig.maximumCancellationDuration = Duration.milliseconds(500)
        let serviceGroup = ServiceGroup(configuration: groupConfig)
        var exitCode: Int32 = 0
        do {
            try await serviceGroup.run()
        } catch is CancellationError {
            // Cancellation after the graceful-shutdown deadline: still a stop we asked for.
        } catch {
            logger.error("stopped with an error: \(error)")
            exitCode = 1
        }
        for s in services { await s.shutdown() }
        await hashes.shutdown()
        // After the worker has drained: the last lines get their signature.
        do { try await auditTrail.close() } catch { logger.error("audit trail not closed cleanly", metadata: ["error": "\(error)"]) }
        logger.info("writebackd stopped")
        return exitCode
    }
}

/// A directory of several could not be set up: names which one.
struct DirectoryStartError: Error, CustomStringConvertible {
    let name: String
    let error: any Error
    var description: String { "directory \"\(name)\": \(error)" }
}
