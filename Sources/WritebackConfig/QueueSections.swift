import TOMLKit
import WritebackCore

/// `[queue]` and `[state]`: where requests wait and where the daemon keeps its own records.
/// SQLite takes a `path`; PostgreSQL (several daemons, one queue) takes a `url`; never both.
enum QueueSection {
    static let keys = ["backend", "path", "url", "notify_channel", "watch_file", "poll_interval_ms", "lease_seconds", "max_attempts", "retention_days"]

    static func read(_ table: TOMLTable, _ context: ParseContext) throws(ConfigError) -> QueueConfig {
        let r = try TableReader(table, section: "queue", known: keys, context: context)
        var q = QueueConfig()
        q.backend = try r.choice("backend", QueueBackend.self) ?? .sqlite
        let path = try r.path("path")
        let url = try r.string("url")
        let channel = try r.string("notify_channel")
        switch q.backend {
        case .sqlite:
            if url != nil { throw r.invalid("url", "only used with backend = \"postgres\"; SQLite takes path") }
            if channel != nil { throw r.invalid("notify_channel", "only used with backend = \"postgres\"; SQLite wakes on changes of its file") }
            q.watchFile = try r.bool("watch_file") ?? q.watchFile
            if let path { q.path = path }
            q.url = nil
        case .postgres:
            if path != nil { throw r.invalid("path", "only used with backend = \"sqlite\"; PostgreSQL takes url") }
            guard let url else { throw r.missing("url") }
            try checkPostgresURL(url, key: "url", r)
            q.url = url
            q.path = nil
            if try r.bool("watch_file") != nil { throw r.invalid("watch_file", "only used with backend = \"sqlite\"; PostgreSQL wakes through notify_channel") }
            if let channel {
                guard channel.isEmpty || NotifyChannel.isValid(channel) else {
                    throw r.invalid("notify_channel", "must be \"\" (poll only) or a lower-case name: a-z, 0-9 and _, not starting with a digit, at most \(NotifyChannel.maxLength) characters")
                }
                q.notifyChannel = channel
            }
        }
        q.pollIntervalMs = try r.int("poll_interval_ms", in: 10...60_000, unit: "milliseconds") ?? q.pollIntervalMs
        q.leaseSeconds = try r.int("lease_seconds", in: 5...3600, unit: "seconds") ?? q.leaseSeconds
        q.maxAttempts = try r.int("max_attempts", in: 1...100) ?? q.maxAttempts
        q.retentionDays = try r.int("retention_days", in: 1...3650, unit: "days") ?? q.retentionDays
        return q
    }

    static func checkPostgresURL(_ url: String, key: String, _ r: TableReader) throws(ConfigError) {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw r.invalid(key, "must be a postgres:// or postgresql:// URL")
        }
        // A password in the URL would put a secret into the configuration.
        let afterScheme = url[url.range(of: "://")!.upperBound...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" }
        if let at = authority.lastIndex(of: "@"), authority[..<at].contains(":") {
            throw r.invalid(key, "must not contain a password: use a passfile (PGPASSFILE, a systemd credential) or peer authentication")
        }
    }
}

enum StateSection {
    static let keys = ["path", "url"]

    static func read(_ table: TOMLTable, _ context: ParseContext) throws(ConfigError) -> StateConfig {
        let r = try TableReader(table, section: "state", known: keys, context: context)
        var s = StateConfig()
        let path = try r.path("path")
        let url = try r.string("url")
        if path != nil && url != nil { throw r.invalid("url", "give path or url, not both") }
        if let url {
            try QueueSection.checkPostgresURL(url, key: "url", r)
            s.url = url; s.path = nil
        } else if let path {
            s.path = path
        }
        return s
    }
}

/// `[keys]`: the producers' Ed25519 public keys (several during a rotation) and the daemon's
/// X25519 sealing key pair. Paths only; `doctor` and the daemon read the files.
enum KeysSection {
    static let keys = ["producer_public_keys", "sealing_private_key", "sealing_public_key"]

    static func read(_ table: TOMLTable, _ context: ParseContext) throws(ConfigError) -> KeysConfig {
        let r = try TableReader(table, section: "keys", known: keys, context: context)
        guard let producers = try r.strings("producer_public_keys", allowSingle: true) else { throw r.missing("producer_public_keys") }
        guard !producers.isEmpty else { throw r.invalid("producer_public_keys", "give at least one producer public key") }
        for p in producers where !p.hasPrefix("/") {
            throw r.invalid("producer_public_keys", "\"\(p)\" must be an absolute path")
        }
        guard let priv = try r.path("sealing_private_key") else { throw r.missing("sealing_private_key") }
        guard let pub = try r.path("sealing_public_key") else { throw r.missing("sealing_public_key") }
        guard priv != pub else { throw r.invalid("sealing_public_key", "is the same file as sealing_private_key") }
        return KeysConfig(producerPublicKeys: producers, sealingPrivateKey: priv, sealingPublicKey: pub)
    }
}
