import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import WritebackConfig
import WritebackCore

/// Reloads the configuration on SIGHUP (and on the control socket's `reload`): a good file
/// replaces the keys, policy and licence rules at once; a bad one is logged with its file,
/// key and reason and the old configuration keeps serving. Either way `status` shows
/// `config_loaded_at` and `config_error`. Sections that hold open resources (directory,
/// queue location and wake source, state, control socket, outbox, audit trail) take effect only
/// after a restart, and the log says so (`keepingRestartOnly`);
/// a directory's rules (`[directory.policy]`) are not such a resource and reload with the rest.
/// Every reload also clears what the directory service cached (group readability, effective
/// password policies), so a policy changed in the directory is seen at once.
public final class ConfigReloader: Service, Sendable {
    let path: String
    let state: DaemonState
    let logger: Logger
    /// Their caches (group readability, password policies) are cleared on every reload.
    let directories: [any PasswordDirectory]

    init(path: String, state: DaemonState, logger: Logger, directories: [any PasswordDirectory] = []) {
        self.path = path; self.state = state; self.logger = logger; self.directories = directories
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading the configuration", metadata: ["file": "\(path)"])
            _ = reload()
        }
    }

    /// Returns nil on success, else the reason the old configuration was kept.
    @discardableResult
    public func reload(now: Date = Date()) -> String? {
        // What was read from the directory is read afresh, whether or not the file is good.
        for directory in directories { directory.clearCaches() }
        let old = state.runtime.config
        var config: Configuration
        do {
            config = try ConfigLoader.load(path: path)
        } catch {
            var metadata: Logger.Metadata = ["file": "\(error.file)", "reason": "\(error.reason)"]
            if let key = error.key { metadata["key"] = "\(key)" }
            if let line = error.line { metadata["line"] = "\(line)" }
            logger.error("configuration not reloaded; keeping the previous one", metadata: metadata)
            state.reloadFailed(error.description)
            return error.description
        }
        let needsRestart: [String]
        (config, needsRestart) = Self.keepingRestartOnly(config, running: old)
        let runtime: DaemonRuntime
        do {
            runtime = try DaemonRuntime(config: config)
        } catch {
            logger.error("configuration not reloaded; keeping the previous one", metadata: ["file": "\(path)", "reason": "\(error)"])
            state.reloadFailed("\(path): \(error)")
            return "\(path): \(error)"
        }
        state.reloaded(runtime, at: now)
        if !needsRestart.isEmpty {
            logger.warning("changed sections take effect after a restart", metadata: ["sections": "\(needsRestart.joined(separator: ","))"])
        }
        logger.info("configuration reloaded", metadata: ["file": "\(path)"])
        return nil
    }
}

extension ConfigReloader {
    /// `new` with every setting that is read only at start put back to the running one's, and
    /// the sections where that happened (for the log). A directory's rules reload; its
    /// connections, routes and the list of directories need a restart (the pools and lanes are
    /// built at start), as do the queue's location and its wake source (`notify_channel`,
    /// `watch_file`), the state store, the control socket, the outbox and the audit trail.
    static func keepingRestartOnly(_ new: Configuration, running old: Configuration) -> (Configuration, [String]) {
        var config = new
        var needsRestart: [String] = []
        if config.directories.map(\.withoutPolicy) != old.directories.map(\.withoutPolicy) {
            needsRestart.append("directory")
            // The running directories stay; each takes the new file's rules for its name.
            let fresh = config.directories
            config.directories = old.directories.map { running in
                var kept = running
                if let new = fresh.first(where: { $0.name == running.name }) { kept.policy = new.policy }
                return kept
            }
        }
        if config.queue.path != old.queue.path || config.queue.url != old.queue.url || config.queue.backend != old.queue.backend {
            needsRestart.append("queue"); config.queue = old.queue
        } else if config.queue.notifyChannel != old.queue.notifyChannel || config.queue.watchFile != old.queue.watchFile {
            // The wake source (LISTEN or inotify) is started once; the poll interval, lease
            // and attempts reload.
            needsRestart.append("queue"); config.queue.notifyChannel = old.queue.notifyChannel; config.queue.watchFile = old.queue.watchFile
        }
        if config.state != old.state { needsRestart.append("state"); config.state = old.state }
        if config.control != old.control { needsRestart.append("control"); config.control = old.control }
        if config.outbox != old.outbox { needsRestart.append("outbox"); config.outbox = old.outbox }
        if config.audit != old.audit { needsRestart.append("audit"); config.audit = old.audit }
        return (config, needsRestart)
    }
}

extension DirectoryConfig {
    /// Everything but the reloadable rules.
    var withoutPolicy: DirectoryConfig {
        var d = self
        d.policy = nil
        return d
    }
}
