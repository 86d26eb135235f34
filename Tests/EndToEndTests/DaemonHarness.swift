import ControlSocket
import Foundation
import Logging
import PostgresQueue
import RequestCodec
import RequestQueue
import TestSupport
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// One end-to-end setup around a real slapd: a temporary directory with fresh keys, a
/// configuration for the daemon, the queue and state files, and a sealer to produce
/// requests the way a portal does (signed, sealed, inserted into `reset_requests`).
/// Exists so each daemon test states only what it changes (poll interval, control group).
struct E2ESetup {
    let dir: String
    let slapd: Slapd
    let sealer: RequestSealer
    /// From `Options.postgresURL`: "" for the SQLite files.
    let postgresURL: String
    var configPath: String { dir + "/writebackd.toml" }
    var socketPath: String { dir + "/run/control.sock" }
    var queuePath: String { dir + "/queue.sqlite" }
    var statePath: String { dir + "/state.sqlite" }
    var outboxDir: String { dir + "/outbox" }
    var auditPath: String { dir + "/audit.jsonl" }

    /// Options the tests vary; everything else is a fixed, valid configuration.
    struct Options {
        var pollIntervalMs = 200
        var connections = 4
        var historyCount = 0
        var timeoutSeconds = 2.0
        var leaseSeconds = 10
        var maxAttempts = 10
        var controlGroup = ""
        var adminGroup = ""
        var throttlePerHour = 1000
        /// `[control] metrics_listen`; "" leaves it out.
        var metricsListen = ""
        /// A PostgreSQL URL for `[queue]` and `[state]` (several daemons); "": SQLite files.
        var postgresURL = ""
        /// `[audit] signing_key`; "" leaves the trail unsigned (it is written all the same).
        var auditSigningKey = ""
        var auditBatchLines = 100
    }

    init(slapd: Slapd, options: Options = Options()) throws {
        self.slapd = slapd
        postgresURL = options.postgresURL
        dir = try Slapd.makeTempDir(prefix: "e2e")
        // Traversable, so a client running as another user reaches the socket.
        chmod(dir, 0o755)
        try FileManager.default.createDirectory(atPath: dir + "/keys", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try PEMKeys.generate(into: dir + "/keys")
        sealer = try RequestSealer(sealingPublicKeyPath: dir + "/keys/daemon-sealing.pub",
                                   signingKeyPath: dir + "/keys/producer-signing.key")
        try writeConfig(options)
    }

    func configText(_ o: Options) -> String {
        """
        [directory]
        flavor = "openldap"
        uri = ["\(slapd.uri)"]
        start_tls = true
        ca_file = "\(slapd.caFile)"
        base_dn = "\(slapd.baseDN)"
        bind_dn = "\(slapd.bindDN)"
        bind_password_file = "\(slapd.bindPasswordFile)"
        connections = \(o.connections)
        timeout_seconds = \(o.timeoutSeconds)

        [queue]
        \(o.postgresURL.isEmpty ? "path = \"\(queuePath)\"" : "backend = \"postgres\"\nurl = \"\(o.postgresURL)\"")
        poll_interval_ms = \(o.pollIntervalMs)
        lease_seconds = \(o.leaseSeconds)
        max_attempts = \(o.maxAttempts)

        [keys]
        producer_public_keys = ["\(dir)/keys/producer-signing.pub"]
        sealing_private_key = "\(dir)/keys/daemon-sealing.key"
        sealing_public_key = "\(dir)/keys/daemon-sealing.pub"

        [policy]
        history_count = \(o.historyCount)
        throttle_per_hour = \(o.throttlePerHour)

        [outbox]
        dir = "\(outboxDir)"

        [control]
        socket = "\(socketPath)"
        group = "\(o.controlGroup)"
        admin_group = "\(o.adminGroup)"
        \(o.metricsListen.isEmpty ? "" : "metrics_listen = \"\(o.metricsListen)\"")

        [state]
        \(o.postgresURL.isEmpty ? "path" : "url") = "\(o.postgresURL.isEmpty ? statePath : o.postgresURL)"

        [audit]
        path = "\(auditPath)"
        signing_key = "\(o.auditSigningKey)"
        batch_lines = \(o.auditBatchLines)

        """
    }

    func writeConfig(_ o: Options) throws {
        try configText(o).write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// A strong random password that passes the default policy and slapd's ppolicy. Letters and
    /// digits alternate, so no three letters stand together: a password can never hold a test
    /// user's 3-letter name token ("bob", "fox") and fail `contains_user_name` by chance.
    static func newPassword() -> String {
        let letters = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ")
        let digits = Array("23456789")
        return "Wb7#" + String((0..<7).flatMap { _ in [letters.randomElement()!, digits.randomElement()!] })
    }

    /// Builds an administrator-initiated reset for `user` (no verification needed, licensed).
    func resetRow(user: String, ttl: TimeInterval = 900, password: String = E2ESetup.newPassword()) throws -> SignedRequest {
        var b = RequestBuilder(kind: .reset, user: user, initiator: .admin(name: "e2e"), ttl: ttl)
        b.licenses = ["AAD_PREMIUM"]
        return try sealer.build(b, newPassword: Secret(password))
    }

    /// Inserts `count` resets spread over `users`; returns their ids.
    @discardableResult
    func enqueueResets(_ count: Int, users: [String]) async throws -> [String] {
        let queue = try await store()
        var ids: [String] = []
        for i in 0..<count {
            let row = try resetRow(user: users[i % users.count])
            try await queue.enqueue(id: row.id, payload: row.payload, signature: row.signature)
            ids.append(row.id)
        }
        return ids
    }

    /// Starts the daemon on this configuration, logging to `log` in the setup's directory.
    func daemon(log: String = "daemon.log", environment: [String: String] = [:]) throws -> DaemonProcess {
        try DaemonProcess(configPath: configPath, socketPath: socketPath, logPath: dir + "/" + log, environment: environment)
    }

    func queue() throws -> SQLiteRequestQueue { try SQLiteRequestQueue(path: queuePath) }

    /// The configured queue, SQLite or PostgreSQL.
    func store() async throws -> any RequestQueueStore {
        postgresURL.isEmpty ? try queue() : try await PostgresRequestQueue(url: postgresURL, logger: Logger(label: "e2e"))
    }

    /// Removes the directory (kept when WRITEBACKD_KEEP_E2E=1, to read the daemon's log).
    func cleanup() {
        if ProcessInfo.processInfo.environment["WRITEBACKD_KEEP_E2E"] == "1" { print("E2E kept: \(dir)"); return }
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Waits until `condition` holds or `timeout` passes; returns whether it held.
func eventually(timeout: TimeInterval, every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
