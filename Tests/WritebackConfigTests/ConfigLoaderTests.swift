import Testing
import WritebackCore
@testable import WritebackConfig

@Suite("ConfigLoader")
struct ConfigLoaderTests {
    func parse(_ text: String) throws(ConfigError) -> Configuration {
        try ConfigLoader.parse(toml: text, path: "/etc/writebackd/test.toml", groupExists: ConfigFixture.groupExists)
    }

    @Test("the minimal configuration loads with the documented defaults")
    func minimalDefaults() throws {
        let c = try parse(ConfigFixture.text())
        #expect(c.directory.flavor == .openldap)
        #expect(c.directory.uris == ["ldaps://ldap1.example.org", "ldaps://ldap2.example.org:1636"])
        #expect(c.directory.userFilter == "(objectClass=inetOrgPerson)")
        #expect(c.directory.identityAttributes == ["uid", "mail"])
        #expect(c.directory.bindMethod == .simple)
        #expect(c.directory.connections == 4)
        #expect(c.directory.timeoutSeconds == 10)
        #expect(c.queue.backend == .sqlite && c.queue.path == "/var/lib/writebackd/queue.sqlite" && c.queue.url == nil)
        #expect(c.queue.pollIntervalMs == 500 && c.queue.leaseSeconds == 60 && c.queue.maxAttempts == 5 && c.queue.retentionDays == 30)
        #expect(c.policy == PolicyConfig())
        #expect(c.licenses == LicensesConfig())
        #expect(c.outbox.dir == "/var/lib/writebackd/outbox")
        #expect(c.control.socket == "/run/writebackd/control.sock" && c.control.group == "writebackd" && c.control.adminGroup == "")
        #expect(c.state.path == "/var/lib/writebackd/state.sqlite")
        #expect(c.sourcePath == "/etc/writebackd/test.toml")
        #expect(c.audit == AuditConfig())
    }

    /// (what, edits, check)
    static let valid: [(String, [String: [String]], @Sendable (Configuration) -> Bool)] = [
        ("single uri string", ["directory": ["uri = \"ldaps://dc1.example.org\""]], { $0.directory.uris == ["ldaps://dc1.example.org"] }),
        ("ldap with start_tls", ["directory": ["uri = \"ldap://ldap.example.org\"", "start_tls = true", "ca_file = \"/etc/ssl/ca.pem\""]],
         { $0.directory.startTLS && $0.directory.caFile == "/etc/ssl/ca.pem" }),
        ("plain loopback allowed", ["directory": ["uri = \"ldap://127.0.0.1:3389\"", "allow_plain_loopback = true"]], { $0.directory.allowPlainLoopback }),
        ("plain localhost allowed", ["directory": ["uri = \"ldap://localhost\"", "allow_plain_loopback = true"]], { _ in true }),
        ("plain ::1 allowed", ["directory": ["uri = \"ldap://[::1]:389\"", "allow_plain_loopback = true"]], { _ in true }),
        ("ldapi with external", ["directory": ["uri = \"ldapi://%2Frun%2Fslapd%2Fldapi\"", "bind_method = \"external\"", "bind_dn = <delete>", "bind_password_file = <delete>"]],
         { $0.directory.bindMethod == .external && $0.directory.bindDN == nil }),
        ("gssapi over plain ldap (SASL sealing)", ["directory": ["flavor = \"active-directory\"", "uri = \"ldap://dc1.example.org\"", "bind_method = \"gssapi\"", "keytab = \"/etc/writebackd/writebackd.keytab\"", "bind_dn = <delete>", "bind_password_file = <delete>"]],
         { $0.directory.keytab == "/etc/writebackd/writebackd.keytab" && $0.directory.identityAttributes == ["sAMAccountName", "userPrincipalName", "mail"] }),
        ("fractional timeout", ["directory": ["timeout_seconds = 2.5"]], { $0.directory.timeoutSeconds == 2.5 }),
        ("integer timeout", ["directory": ["timeout_seconds = 3"]], { $0.directory.timeoutSeconds == 3 }),
        ("alternate mail", ["directory": ["alternate_mail_attribute = \"otherMailbox\""]], { $0.directory.alternateMailAttribute == "otherMailbox" }),
        ("group base", ["directory": ["group_base_dn = \"ou=groups,dc=example,dc=org\""]], { $0.directory.groupBaseDN == "ou=groups,dc=example,dc=org" }),
        ("group base unset: the naming context at run time", [:], { $0.directory.groupBaseDN == nil }),
        ("postgres queue and state", ["queue": ["backend = \"postgres\"", "url = \"postgres://writebackd@db.example.org/writeback\""], "state": ["url = \"postgresql://writebackd@db.example.org/writeback\""]],
         { $0.queue.path == nil && $0.queue.url != nil && $0.state.path == nil && $0.state.url != nil }),
        ("selected scope with groups", ["policy": ["sspr_scope = \"selected\"", "sspr_groups = [\"cn=sspr,ou=groups,dc=example,dc=org\"]"]], { $0.policy.ssprScope == .selected }),
        ("two methods", ["policy": ["methods_required = 2"]], { $0.policy.methodsRequired == 2 }),
        ("min_age_hours float", ["policy": ["min_age_hours = 0.5"]], { $0.policy.minAgeHours == 0.5 }),
        ("min = max length", ["policy": ["min_length = 12", "max_length = 12"]], { $0.policy.minLength == 12 }),
        ("licenses off and empty", ["licenses": ["enforce = false", "eligible = []"]], { !$0.licenses.enforce }),
        ("owner-only socket", ["control": ["group = \"\""]], { $0.control.group == "" }),
        ("admin group", ["control": ["admin_group = \"wbadmin\""]], { $0.control.adminGroup == "wbadmin" }),
        ("metrics on loopback", ["control": ["metrics_listen = \"127.0.0.1:9469\""]], { $0.control.metricsListen == "127.0.0.1:9469" }),
        ("sendmail", ["outbox": ["sendmail = \"/usr/sbin/sendmail -t -i\"", "admin_notify = [\"helpdesk@example.org\", \"Ops <ops@example.org>\"]"]], { $0.outbox.adminNotify.count == 2 }),
        ("producer key as single string", ["keys": ["producer_public_keys = \"/etc/writebackd/p.pub\""]], { $0.keys.producerPublicKeys == ["/etc/writebackd/p.pub"] }),
        ("audit beside the state file", ["state": ["path = \"/srv/wb/state.sqlite\""]], { $0.audit.path == "/srv/wb/audit.jsonl" }),
        ("audit path and key", ["audit": ["path = \"/srv/audit/trail.jsonl\"", "signing_key = \"/etc/writebackd/audit-signing.key\"",
                                          "batch_lines = 1", "batch_seconds = 5", "rotate_bytes = 0"]],
         { $0.audit.path == "/srv/audit/trail.jsonl" && $0.audit.signingKey == "/etc/writebackd/audit-signing.key" && $0.audit.batchLines == 1 && $0.audit.rotateBytes == 0 }),
        ("postgres state: audit in /var/lib/writebackd", ["queue": ["backend = \"postgres\"", "url = \"postgres://writebackd@db.example.org/writeback\""], "state": ["url = \"postgresql://writebackd@db.example.org/writeback\""]],
         { $0.audit.path == "/var/lib/writebackd/audit.jsonl" }),
        ("retention", ["queue": ["retention_days = 7", "lease_seconds = 120"]], { $0.queue.retentionDays == 7 && $0.queue.leaseSeconds == 120 }),
        ("postgres default channel", ["queue": ["backend = \"postgres\"", "url = \"postgres://db/x\""], "state": ["url = \"postgres://db/x\""]],
         { $0.queue.notifyChannel == "writebackd" }),
        ("postgres own channel", ["queue": ["backend = \"postgres\"", "url = \"postgres://db/x\"", "notify_channel = \"wb_site2\""], "state": ["url = \"postgres://db/x\""]],
         { $0.queue.notifyChannel == "wb_site2" }),
        ("sqlite poll only", ["queue": ["watch_file = false"]], { !$0.queue.watchFile }),
        ("postgres poll only", ["queue": ["backend = \"postgres\"", "url = \"postgres://db/x\"", "notify_channel = \"\""], "state": ["url = \"postgres://db/x\""]],
         { $0.queue.notifyChannel == "" }),
    ]

    @Test("valid variations load", arguments: valid.indices)
    func validVariations(_ i: Int) throws {
        let (what, edits, check) = Self.valid[i]
        let c = try parse(ConfigFixture.text(edits))
        #expect(check(c), "\(what)")
    }

    /// (edits, key named in the error, a fragment of the reason)
    static let invalid: [([String: [String]], String, String)] = [
        // [directory]
        (["directory": ["flavor = \"ad\""]], "directory.flavor", "not one of"),
        (["directory": ["flavor = <delete>"]], "directory.flavor", "missing"),
        (["directory": ["uri = <delete>"]], "directory.uri", "missing"),
        (["directory": ["uri = []"]], "directory.uri", "at least one"),
        (["directory": ["uri = 389"]], "directory.uri", "expected a string or an array of strings, found an integer"),
        (["directory": ["uri = [\"ldaps://a\", 3]"]], "directory.uri", "an array holding an integer"),
        (["directory": ["uri = \"http://ldap.example.org\""]], "directory.uri", "scheme must be ldap"),
        (["directory": ["uri = \"ldaps://ldap.example.org:0\""]], "directory.uri", "port must be"),
        (["directory": ["uri = \"ldaps://ldap.example.org/dc=x\""]], "directory.uri", "only scheme://host"),
        (["directory": ["uri = \"ldap://ldap.example.org\""]], "directory.uri", "plain LDAP"),
        (["directory": ["uri = \"ldap://127.0.0.1\""]], "directory.uri", "plain LDAP"),
        (["directory": ["uri = \"ldap://10.0.0.1\"", "allow_plain_loopback = true"]], "directory.uri", "not loopback"),
        (["directory": ["uri = \"ldaps://x.example.org\"", "start_tls = true"]], "directory.start_tls", "already TLS"),
        (["directory": ["start_tls = \"yes\""]], "directory.start_tls", "expected a boolean"),
        (["directory": ["base_dn = \"example.org\""]], "directory.base_dn", "not a DN"),
        (["directory": ["user_filter = \"objectClass=person\""]], "directory.user_filter", "parentheses"),
        (["directory": ["user_filter = \"(&(objectClass=person)\""]], "directory.user_filter", "unbalanced"),
        (["directory": ["identity_attributes = []"]], "directory.identity_attributes", "at least one"),
        (["directory": ["identity_attributes = [\"uid\", \"mail address\"]"]], "directory.identity_attributes", "not an attribute name"),
        (["directory": ["bind_method = \"anonymous\""]], "directory.bind_method", "not one of"),
        (["directory": ["bind_dn = <delete>"]], "directory.bind_dn", "missing"),
        (["directory": ["bind_password_file = <delete>"]], "directory.bind_password_file", "missing"),
        (["directory": ["bind_password_file = \"secret.txt\""]], "directory.bind_password_file", "absolute path"),
        (["directory": ["bind_method = \"gssapi\"", "bind_dn = <delete>", "bind_password_file = <delete>"]], "directory.bind_method", "needs keytab"),
        (["directory": ["bind_method = \"gssapi\"", "keytab = \"/etc/k.keytab\"", "bind_dn = <delete>"]], "directory.bind_password_file", "not used"),
        (["directory": ["bind_method = \"external\"", "bind_dn = <delete>", "bind_password_file = <delete>"]], "directory.bind_method", "ldapi"),
        (["directory": ["connections = 0"]], "directory.connections", "out of range"),
        (["directory": ["connections = 1.5"]], "directory.connections", "expected an integer, found a float"),
        (["directory": ["timeout_seconds = 0"]], "directory.timeout_seconds", "out of range"),
        (["directory": ["timeout_seconds = \"10\""]], "directory.timeout_seconds", "expected a number"),
        (["directory": ["alternate_mail_attribute = \"other mail\""]], "directory.alternate_mail_attribute", "not an attribute"),
        (["directory": ["group_base_dn = \"groups\""]], "directory.group_base_dn", "not a DN"),
        (["directory": ["group_base_dn = 7"]], "directory.group_base_dn", "expected a string"),
        // [queue]
        (["queue": ["backend = \"mysql\""]], "queue.backend", "not one of"),
        (["queue": ["url = \"postgres://db/x\""]], "queue.url", "only used with backend"),
        (["queue": ["backend = \"postgres\""]], "queue.url", "missing"),
        (["queue": ["backend = \"postgres\"", "url = \"mysql://db/x\""]], "queue.url", "postgres://"),
        (["queue": ["backend = \"postgres\"", "url = \"postgres://u:pw@db/x\""]], "queue.url", "must not contain a password"),
        (["queue": ["notify_channel = \"writebackd\""]], "queue.notify_channel", "only used with backend"),
        (["queue": ["backend = \"postgres\"", "url = \"postgres://db/x\"", "watch_file = false"]], "queue.watch_file", "only used with backend"),
        (["queue": ["watch_file = \"no\""]], "queue.watch_file", "boolean"),
        (["queue": ["backend = \"postgres\"", "url = \"postgres://db/x\"", "notify_channel = \"Wb\""]], "queue.notify_channel", "lower-case"),
        (["queue": ["backend = \"postgres\"", "url = \"postgres://db/x\"", "notify_channel = \"wb\\\"; DROP TABLE x; --\""]], "queue.notify_channel", "lower-case"),
        (["queue": ["backend = \"postgres\"", "url = \"postgres://db/x\"", "notify_channel = 7"]], "queue.notify_channel", "expected a string"),
        (["queue": ["path = \"queue.sqlite\""]], "queue.path", "absolute"),
        (["queue": ["poll_interval_ms = 0"]], "queue.poll_interval_ms", "out of range"),
        (["queue": ["lease_seconds = 10"]], "queue.lease_seconds", "twice directory.timeout_seconds"),
        (["queue": ["max_attempts = 0"]], "queue.max_attempts", "out of range"),
        (["queue": ["retention_days = 0"]], "queue.retention_days", "out of range"),
        // [keys]
        (["keys": ["producer_public_keys = []"]], "keys.producer_public_keys", "at least one"),
        (["keys": ["sealing_private_key = <delete>"]], "keys.sealing_private_key", "missing"),
        (["keys": ["sealing_public_key = \"/etc/writebackd/daemon-sealing.key\""]], "keys.sealing_public_key", "same file"),
        (["keys": ["producer_public_keys = [\"producer.pub\"]"]], "keys.producer_public_keys", "absolute"),
        // [policy]
        (["policy": ["sspr_scope = \"some\""]], "policy.sspr_scope", "not one of"),
        (["policy": ["sspr_scope = \"selected\""]], "policy.sspr_scope", "needs sspr_groups"),
        (["policy": ["sspr_scope = \"selected\"", "sspr_groups = []"]], "policy.sspr_groups", "at least one group"),
        (["policy": ["sspr_groups = [\"helpdesk\"]"]], "policy.sspr_groups", "not a DN"),
        (["policy": ["methods_required = 3"]], "policy.methods_required", "out of range"),
        (["policy": ["methods_required = 2", "allowed_methods = [\"email\"]"]], "policy.methods_required", "only 1 allowed"),
        (["policy": ["allowed_methods = [\"sms\"]"]], "policy.allowed_methods", "not a method"),
        (["policy": ["allowed_methods = [\"email\", \"email\"]"]], "policy.allowed_methods", "twice"),
        (["policy": ["min_length = 20", "max_length = 10"]], "policy.min_length", "must not exceed"),
        (["policy": ["max_length = 300"]], "policy.max_length", "out of range"),
        (["policy": ["min_length = 0"]], "policy.min_length", "out of range"),
        (["policy": ["history_count = -1"]], "policy.history_count", "out of range"),
        (["policy": ["min_age_hours = -1"]], "policy.min_age_hours", "out of range"),
        (["policy": ["complexity = 1"]], "policy.complexity", "expected a boolean"),
        (["policy": ["reconfirm_days = 1000"]], "policy.reconfirm_days", "out of range"),
        (["policy": ["throttle_per_hour = 0"]], "policy.throttle_per_hour", "out of range"),
        (["policy": ["banned_passwords_file = \"banned.txt\""]], "policy.banned_passwords_file", "absolute"),
        // [licenses]
        (["licenses": ["eligible = []"]], "licenses.eligible", "nobody could reset"),
        (["licenses": ["eligible = [\"SPE E3\"]"]], "licenses.eligible", "not a SKU"),
        // [outbox]
        (["outbox": ["from = \"IT desk\""]], "outbox.from", "not a mail address"),
        (["outbox": ["admin_notify = [\"a@b\", \"nobody\"]"]], "outbox.admin_notify", "not a mail address"),
        (["outbox": ["sendmail = \"sendmail -t\""]], "outbox.sendmail", "absolute path"),
        (["outbox": ["dir = \"\""]], "outbox.dir", "must not be empty"),
        // [control]
        (["control": ["group = \"no-such-group-xyz\""]], "control.group", "does not exist"),
        (["control": ["admin_group = \"no-such-group-xyz\""]], "control.admin_group", "does not exist"),
        (["control": ["socket = \"control.sock\""]], "control.socket", "absolute"),
        (["control": ["socket = \"/\(String(repeating: "x", count: 120))\""]], "control.socket", "107 bytes"),
        (["control": ["metrics_listen = \"0.0.0.0:9469\""]], "control.metrics_listen", "not a loopback"),
        (["control": ["metrics_listen = \"localhost\""]], "control.metrics_listen", "host:port"),
        // [state]
        (["state": ["path = \"/a.sqlite\"", "url = \"postgres://db/x\""]], "state.url", "not both"),
        (["state": ["url = \"postgres://db/x\""]], "state.url", "backend = \"postgres\""),
        // [audit]
        (["audit": ["path = \"audit.jsonl\""]], "audit.path", "absolute"),
        (["audit": ["signing_key = \"audit.key\""]], "audit.signing_key", "absolute"),
        (["audit": ["batch_lines = 0"]], "audit.batch_lines", "out of range"),
        (["audit": ["batch_seconds = 100000"]], "audit.batch_seconds", "out of range"),
        (["audit": ["rotate_bytes = 100"]], "audit.rotate_bytes", "at least 65536"),
        (["audit": ["sign = true"]], "audit.sign", "unknown"),
    ]

    @Test("bad values are refused with file, line, key and reason", arguments: invalid.indices)
    func invalidValues(_ i: Int) {
        let (edits, key, fragment) = Self.invalid[i]
        let text = ConfigFixture.text(edits)
        do {
            _ = try parse(text)
            Issue.record("accepted: \(edits)")
        } catch {
            #expect(error.key == key, "\(error)")
            #expect(error.file == "/etc/writebackd/test.toml")
            #expect(error.description.contains(fragment), "\(error)")
            #expect(error.description.hasPrefix("/etc/writebackd/test.toml:"), "\(error)")
            // A key that is written in the file is reported at its own line; a missing one at its section.
            let section = String(key.split(separator: ".")[0]), name = String(key.split(separator: ".")[1])
            if let expected = ConfigFixture.line(of: name, in: section, text: text) {
                #expect(error.line == expected, "\(error)")
            } else {
                #expect(error.line == text.lineOfHeader(section), "\(error)")
            }
        }
    }

    @Test("an unknown key is refused with its line and a suggestion")
    func unknownKey() {
        let text = ConfigFixture.text(["directory": ["bind_passwrod_file = \"/x\""]])
        #expect(throws: ConfigError.unknownKey(file: "/etc/writebackd/test.toml", line: 7, key: "directory.bind_passwrod_file",
                                                hint: "did you mean \"bind_password_file\"?")) { try parse(text) }
    }

    @Test("a password in the TOML is refused with a pointer to *_file")
    func secretInTOML() throws {
        let text = ConfigFixture.text(["directory": ["bind_password = \"hunter2\""]])
        let error = try #require(throws: ConfigError.self) { try parse(text) }
        #expect(error.key == "directory.bind_password")
        #expect(error.line == 7)
        #expect(error.description.contains("secrets are never read from the configuration"))
        #expect(!error.description.contains("hunter2"))
    }

    @Test("the first of several unknown keys in file order is reported")
    func firstUnknownKey() throws {
        let text = ConfigFixture.text(["policy": ["zzz = 1"], "directory": ["aaa_later = 2"]])
        let error = try #require(throws: ConfigError.self) { try parse(text) }
        #expect(error.key == "directory.aaa_later")
    }

    @Test("unknown sections and top-level keys are refused")
    func unknownSection() throws {
        let text = ConfigFixture.text(extra: "\n[polcy]\nmin_length = 3\n")
        let e1 = try #require(throws: ConfigError.self) { try parse(text) }
        #expect(e1 == .unknownSection(file: "/etc/writebackd/test.toml", line: text.lineOfHeader("polcy"), section: "polcy", hint: "did you mean \"policy\"?"))
        let e2 = try #require(throws: ConfigError.self) { try parse("log_level = \"debug\"\n" + ConfigFixture.text()) }
        #expect(e2.key == "log_level" && e2.line == 1)
        let e3 = try #require(throws: ConfigError.self) { try parse(ConfigFixture.text(["directory": ["tls = { verify = true }"]])) }
        #expect(e3.key == "directory.tls" && e3.line == 7)
        let e4 = try #require(throws: ConfigError.self) { try parse("directory = 3\n") }
        #expect(e4.key == "directory" && e4.description.contains("expected a table"))
    }

    @Test("missing required sections are named")
    func missingSections() throws {
        let e = try #require(throws: ConfigError.self) { try parse("[queue]\n") }
        #expect(e == .missingKey(file: "/etc/writebackd/test.toml", line: nil, key: "directory"))
    }

    @Test("TOML syntax errors carry the parser's line and column")
    func syntaxError() throws {
        let text = ConfigFixture.text() + "\n[policy\nmin_length = 3\n"
        let e = try #require(throws: ConfigError.self) { try parse(text) }
        guard case .syntax(_, let line, let column, _) = e else { Issue.record("\(e)"); return }
        #expect(line == text.split(separator: "\n", omittingEmptySubsequences: false).count - 2)
        #expect(column > 0)
        let dup = try #require(throws: ConfigError.self) { try parse(ConfigFixture.text() + "\n[directory]\n") }
        guard case .syntax = dup else { Issue.record("\(dup)"); return }
    }

    @Test("a missing file is reported, not crashed on")
    func unreadable() throws {
        let e = try #require(throws: ConfigError.self) { try ConfigLoader.load(path: "/nonexistent/writebackd.toml") }
        #expect(e.description == "/nonexistent/writebackd.toml: cannot read the configuration: No such file or directory")
    }

    @Test("the default group must exist when [control] group is not written")
    func defaultGroupChecked() throws {
        let text = ConfigFixture.text(["control": ["group = <delete>"]])
        let e = try #require(throws: ConfigError.self) {
            try ConfigLoader.parse(toml: text, path: "t.toml", groupExists: { _ in false })
        }
        #expect(e.key == "control.group")
        #expect(throws: Never.self) { try ConfigLoader.parse(toml: text, path: "t.toml", groupExists: { $0 == "writebackd" }) }
    }
}

extension String {
    func lineOfHeader(_ section: String) -> Int? {
        split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0 == "[\(section)]" }.map { $0 + 1 }
    }
}
