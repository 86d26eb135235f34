import TOMLKit
import WritebackCore

/// `[outbox]`: where confirmation messages go and what they say they come from. Header values
/// are checked for line breaks, so a configuration cannot inject mail headers.
enum OutboxSection {
    static let keys = ["dir", "from", "organization", "admin_notify", "sendmail", "templates_dir"]

    static func read(_ table: TOMLTable, _ context: ParseContext) throws(ConfigError) -> OutboxConfig {
        let r = try TableReader(table, section: "outbox", known: keys, context: context)
        var o = OutboxConfig(dir: try r.path("dir") ?? "/var/lib/writebackd/outbox")
        if let from = try r.string("from") {
            guard isAddress(from) else { throw r.invalid("from", "\"\(from)\" is not a mail address (e.g. \"IT Service Desk <noreply@example.org>\")") }
            o.from = from
        }
        if let org = try r.string("organization") {
            guard !org.contains(where: { $0 == "\r" || $0 == "\n" }) else { throw r.invalid("organization", "must be one line") }
            o.organization = org
        }
        if let admins = try r.strings("admin_notify") {
            for a in admins where !isAddress(a) {
                throw r.invalid("admin_notify", "\"\(a)\" is not a mail address")
            }
            o.adminNotify = admins
        }
        if let sendmail = try r.string("sendmail") {
            let program = sendmail.split(separator: " ").first.map(String.init) ?? ""
            if !sendmail.isEmpty && !program.hasPrefix("/") {
                throw r.invalid("sendmail", "the command must start with an absolute path, e.g. \"/usr/sbin/sendmail -t -i\"")
            }
            o.sendmail = sendmail
        }
        o.templatesDir = try r.path("templates_dir", allowEmpty: true) ?? ""
        return o
    }

    /// One address, bare or `Name <local@domain>`, on one line.
    static func isAddress(_ s: String) -> Bool {
        guard !s.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "," }) else { return false }
        var addr = Substring(s)
        if let lt = s.lastIndex(of: "<") {
            guard s.hasSuffix(">") else { return false }
            addr = s[s.index(after: lt)..<s.index(before: s.endIndex)]
        }
        let parts = addr.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && !addr.contains(" ")
    }
}

/// `[control]`: the administrator's socket and who may use it. A group that does not exist is
/// an error here, not a surprise at the first `writebackctl status`.
enum ControlSection {
    static let keys = ["socket", "group", "admin_group", "metrics_listen"]

    static func read(_ table: TOMLTable, _ context: ParseContext) throws(ConfigError) -> ControlConfig {
        let r = try TableReader(table, section: "control", known: keys, context: context)
        var c = ControlConfig()
        if let socket = try r.path("socket") {
            guard socket.utf8.count <= 107 else { throw r.invalid("socket", "longer than 107 bytes, the limit of a Unix socket path") }
            c.socket = socket
        }
        for key in ["group", "admin_group"] {
            guard let g = try r.string(key) else { continue }
            if !g.isEmpty && !context.groupExists(g) {
                throw r.invalid(key, "group \"\(g)\" does not exist on this system (create it, e.g. via systemd-sysusers, or set \"\")")
            }
            if key == "group" { c.group = g } else { c.adminGroup = g }
        }
        if r.has("group") == false, !c.group.isEmpty, !context.groupExists(c.group) {
            throw r.invalid("group", "the default group \"\(c.group)\" does not exist on this system (install writebackd.sysusers, or set group = \"\")")
        }
        if let listen = try r.string("metrics_listen"), !listen.isEmpty {
            guard let (host, _) = ControlConfig.hostPort(listen) else {
                throw r.invalid("metrics_listen", "\"\(listen)\" must be host:port, e.g. \"127.0.0.1:9469\"")
            }
            guard case .success(let uri) = LDAPURI.parse("ldap://\(host.contains(":") ? "[\(host)]" : host)"), uri.isLoopback else {
                throw r.invalid("metrics_listen", "\"\(listen)\" is not a loopback address: metrics listen on 127.0.0.1 or ::1 only (use a reverse proxy to publish them)")
            }
            c.metricsListen = listen
        }
        return c
    }
}
