import Foundation
import RequestCodec
import RequestQueue
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// One daemon's world for a drain or a fault scenario: a private directory with fresh keys, a
/// configuration against the bench slapd (StartTLS, 4 connections), the queue, state store
/// and outbox files, and the producer side (a sealer) to make signed, sealed requests the
/// way a portal does. Every password is `marker` + random characters, so a scan of the
/// daemon's files for the marker finds any password that leaked.
struct DrainSetup: Sendable {
    /// What the runs vary; everything else is the documented default.
    struct Options: Sendable {
        /// nil: the default policy (history 24, scrypt); 0: no history kept.
        var historyCount: Int? = 0
        var connections = 4
        /// nil: the default (500 ms).
        var pollIntervalMs: Int?
        var leaseSeconds: Int?
        var maxAttempts: Int?
        var timeoutSeconds: Double = 5
        /// nil: the default (5 per user per hour).
        var throttlePerHour: Int? = 1000
        /// Where the queue file lives (a small tmpfs for the "filesystem full" scenario).
        var queueDir: String?
        /// Set in the daemon's environment (`WRITEBACKD_REQUESTS_PER_CONNECTION` for the
        /// pipeline-depth comparison).
        var environment: [String: String] = [:]
    }

    static let marker = "Qz8%"

    let dir: String
    let slapd: BenchSlapd
    let sealer: RequestSealer
    let options: Options
    var configPath: String { dir + "/writebackd.toml" }
    var socketPath: String { dir + "/control.sock" }
    var queuePath: String { (options.queueDir ?? dir) + "/queue.sqlite" }
    var statePath: String { dir + "/state.sqlite" }
    var outboxDir: String { dir + "/outbox" }
    var logPath: String { dir + "/daemon.log" }

    init(parent: String, name: String, slapd: BenchSlapd, options: Options = Options()) throws {
        dir = parent + "/" + name
        self.slapd = slapd
        self.options = options
        try FileManager.default.createDirectory(atPath: dir + "/keys", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try PEMKeys.generate(into: dir + "/keys")
        sealer = try RequestSealer(sealingPublicKeyPath: dir + "/keys/daemon-sealing.pub", signingKeyPath: dir + "/keys/producer-signing.key")
        try configText().write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func configText() -> String {
        let o = options
        var queue = "path = \"\(queuePath)\"\n"
        if let v = o.pollIntervalMs { queue += "poll_interval_ms = \(v)\n" }
        if let v = o.leaseSeconds { queue += "lease_seconds = \(v)\n" }
        if let v = o.maxAttempts { queue += "max_attempts = \(v)\n" }
        var policy = ""
        if let v = o.historyCount { policy += "history_count = \(v)\n" }
        if let v = o.throttlePerHour { policy += "throttle_per_hour = \(v)\n" }
        return """
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
            \(queue)
            [keys]
            producer_public_keys = ["\(dir)/keys/producer-signing.pub"]
            sealing_private_key = "\(dir)/keys/daemon-sealing.key"
            sealing_public_key = "\(dir)/keys/daemon-sealing.pub"

            [policy]
            \(policy)
            [outbox]
            dir = "\(outboxDir)"

            [control]
            socket = "\(socketPath)"
            group = ""

            [state]
            path = "\(statePath)"

            """
    }

    /// A random password that passes the default policy and slapd's ppolicy.
    static func newPassword() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return marker + String((0..<14).map { _ in alphabet.randomElement()! })
    }

    /// An administrator's reset of bench user `i` (no verification needed, licensed).
    func resetRow(user i: Int, password: String, ttl: TimeInterval = 3600) throws -> SignedRequest {
        var b = RequestBuilder(kind: .reset, user: BenchSlapd.uid(i), initiator: .admin(name: "bench"), ttl: ttl)
        b.licenses = ["AAD_PREMIUM"]
        return try sealer.build(b, newPassword: Secret(password))
    }

    /// Resets for `users`, one each: rows and their passwords (index-aligned).
    func resetRows(users: some Sequence<Int>) throws -> (rows: [SignedRequest], passwords: [Int: String]) {
        var rows: [SignedRequest] = []
        var passwords: [Int: String] = [:]
        for i in users {
            let pw = Self.newPassword()
            rows.append(try resetRow(user: i, password: pw))
            passwords[i] = pw
        }
        return (rows, passwords)
    }

    func queue() throws -> SQLiteRequestQueue { try SQLiteRequestQueue(path: queuePath) }

    /// Every file the daemon wrote (log, queue and WAL, state store, audit trail, outbox: all
    /// of this world's directory, and the queue's own) that holds `marker`: a password that
    /// leaked. Empty is the only good answer.
    func filesHoldingPasswords() -> [String] {
        var files: [String] = []
        for root in Set([dir, options.queueDir ?? dir]) {
            guard let e = FileManager.default.enumerator(atPath: root) else { continue }
            for case let f as String in e {
                var isDir: ObjCBool = false
                if FileManager.default.fileExists(atPath: root + "/" + f, isDirectory: &isDir), !isDir.boolValue { files.append(root + "/" + f) }
            }
        }
        let needle = Data(Self.marker.utf8)
        return files.filter { (FileManager.default.contents(atPath: $0)?.range(of: needle)) != nil }
    }
}
