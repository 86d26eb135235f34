import TOMLKit
import WritebackCore

/// `[directory]`: where the directory is, how to reach it safely, and how to find users.
/// Enforces the contract's encryption rule at load: every bind is over TLS (`ldaps://` or
/// StartTLS), over `ldapi://`, or GSSAPI with SASL sealing; plain `ldap://` otherwise only with
/// `allow_plain_loopback = true` and a loopback host.
enum DirectorySection {
    static let keys = ["flavor", "uri", "start_tls", "ca_file", "base_dn", "user_filter", "identity_attributes",
                       "bind_method", "bind_dn", "bind_password_file", "keytab", "connections", "timeout_seconds",
                       "alternate_mail_attribute", "allow_plain_loopback", "doctor_test_user", "group_base_dn",
                       "name", "route", "default", "strip_prefix", "strip_suffix", "policy"]

    /// One directory table. `section` names it in messages (`directory`, `directory[contoso]`),
    /// `locatorSection` finds its lines (`directory[1]`); `needsName`: an entry of
    /// `[[directory]]`. `policy` is `[policy]` as read, for `[directory.policy]` to override.
    static func read(_ table: TOMLTable, _ context: ParseContext, section: String = "directory", locatorSection: String? = nil,
                     needsName: Bool = false, policy: PolicyConfig = PolicyConfig(), checkPolicy: Bool = false) throws(ConfigError) -> DirectoryConfig {
        let r = try TableReader(table, section: section, locatorSection: locatorSection, known: keys, context: context)
        guard let flavor = try r.choice("flavor", DirectoryFlavor.self) else { throw r.missing("flavor") }
        guard let uriTexts = try r.strings("uri", allowSingle: true) else { throw r.missing("uri") }
        guard !uriTexts.isEmpty else { throw r.invalid("uri", "give at least one URI") }
        guard Set(uriTexts).count == uriTexts.count else { throw r.invalid("uri", "the same URI is listed twice") }
        guard let baseDN = try r.string("base_dn") else { throw r.missing("base_dn") }
        try checkDN(baseDN, "base_dn", r)

        var config = DirectoryConfig(flavor: flavor, uris: uriTexts, baseDN: baseDN)
        if let filter = try r.string("user_filter") {
            try checkFilter(filter, r)
            config.userFilter = filter
        }
        if let attrs = try r.strings("identity_attributes") {
            guard !attrs.isEmpty else { throw r.invalid("identity_attributes", "give at least one attribute") }
            for a in attrs where !isAttributeName(a) {
                throw r.invalid("identity_attributes", "\"\(a)\" is not an attribute name")
            }
            config.identityAttributes = attrs
        }
        config.startTLS = try r.bool("start_tls") ?? false
        config.allowPlainLoopback = try r.bool("allow_plain_loopback") ?? false
        if let ca = try r.path("ca_file") { config.caFile = ca }
        config.bindMethod = try r.choice("bind_method", BindMethod.self) ?? .simple
        config.bindDN = try r.string("bind_dn")
        config.bindPasswordFile = try r.path("bind_password_file")
        config.keytab = try r.path("keytab")
        config.connections = try r.int("connections", in: 1...64) ?? config.connections
        if let t = try r.number("timeout_seconds") {
            guard t > 0, t <= 300 else { throw r.invalid("timeout_seconds", "\(t) is out of range: must be > 0 and ≤ 300 seconds") }
            config.timeoutSeconds = t
        }
        if let alt = try r.string("alternate_mail_attribute"), !alt.isEmpty {
            guard isAttributeName(alt) else { throw r.invalid("alternate_mail_attribute", "\"\(alt)\" is not an attribute name") }
            config.alternateMailAttribute = alt
        }
        if let user = try r.string("doctor_test_user"), !user.isEmpty { config.doctorTestUser = user }
        if let groupBase = try r.string("group_base_dn"), !groupBase.isEmpty {
            try checkDN(groupBase, "group_base_dn", r)
            config.groupBaseDN = groupBase
        }
        try readRouting(&config, r, needsName: needsName)
        let policyTable = try r.subtable("policy")
        if policyTable != nil || checkPolicy {
            let effective = try PolicySection.read(policyTable ?? TOMLTable(), context, section: r.name("policy"),
                                                   locatorSection: r.locatorSection + ".policy", over: policy)
            if policyTable != nil { config.policy = effective }
        }

        try checkBind(config, r)
        try checkTransport(config, r)
        return config
    }

    /// `name`, `route`, `default`, `strip_prefix`, `strip_suffix`.
    static func readRouting(_ config: inout DirectoryConfig, _ r: TableReader, needsName: Bool) throws(ConfigError) {
        if let name = try r.string("name") {
            guard isDirectoryName(name) else {
                throw r.invalid("name", "\"\(name)\" is not a directory name: 1…64 letters, digits, '.', '-', '_', starting with a letter or digit")
            }
            config.name = name
        } else if needsName {
            throw r.missing("name")
        }
        for text in try r.strings("route", allowSingle: true) ?? [] {
            guard let route = DirectoryRoute(text) else {
                throw r.invalid("route", "\"\(text)\" is not a route: a user suffix \"@contoso.com\" or a NetBIOS prefix \"CONTOSO\\\" (in TOML written \"CONTOSO\\\\\")")
            }
            guard !config.routes.contains(route) else { throw r.invalid("route", "\"\(text)\" is listed twice") }
            config.routes.append(route)
        }
        config.isDefault = try r.bool("default") ?? false
        config.stripPrefix = try r.bool("strip_prefix") ?? config.stripPrefix
        config.stripSuffix = try r.bool("strip_suffix") ?? config.stripSuffix
    }

    /// `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`: safe in a metrics label, a log field and a message.
    static func isDirectoryName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 64 else { return false }
        func alnum(_ c: Unicode.Scalar) -> Bool { c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c)) }
        return alnum(first) && s.unicodeScalars.allSatisfy { alnum($0) || $0 == "." || $0 == "-" || $0 == "_" }
    }

    /// What each bind method needs, and nothing it would silently ignore.
    static func checkBind(_ c: DirectoryConfig, _ r: TableReader) throws(ConfigError) {
        switch c.bindMethod {
        case .simple:
            guard let dn = c.bindDN, !dn.isEmpty else {
                throw r.has("bind_dn") ? r.invalid("bind_dn", "must not be empty") : r.missing("bind_dn")
            }
            try checkDN(dn, "bind_dn", r)
            guard c.bindPasswordFile != nil else { throw r.missing("bind_password_file") }
            if c.keytab != nil { throw r.invalid("keytab", "only used with bind_method = \"gssapi\"") }
        case .gssapi:
            guard c.keytab != nil else { throw r.invalid("bind_method", "\"gssapi\" needs keytab (the daemon's own keytab; no kinit)") }
            if c.bindPasswordFile != nil { throw r.invalid("bind_password_file", "not used with bind_method = \"gssapi\" (remove it)") }
            if c.bindDN != nil { throw r.invalid("bind_dn", "not used with bind_method = \"gssapi\": the identity is the keytab's principal") }
        case .external:
            if c.bindPasswordFile != nil { throw r.invalid("bind_password_file", "not used with bind_method = \"external\" (remove it)") }
            if c.keytab != nil { throw r.invalid("keytab", "only used with bind_method = \"gssapi\"") }
            if c.bindDN != nil { throw r.invalid("bind_dn", "not used with bind_method = \"external\": the server maps the peer's identity") }
        }
    }

    /// Every URI parses, and every bind is encrypted.
    static func checkTransport(_ c: DirectoryConfig, _ r: TableReader) throws(ConfigError) {
        for text in c.uris {
            let uri: LDAPURI
            switch LDAPURI.parse(text) {
            case .success(let u): uri = u
            case .failure(let p): throw r.invalid("uri", p.reason)
            }
            switch uri.scheme {
            case .ldaps:
                if c.startTLS { throw r.invalid("start_tls", "\(text) is already TLS: StartTLS applies to ldap:// only") }
            case .ldapi:
                break
            case .ldap:
                if c.startTLS { break }
                if c.bindMethod == .gssapi { break }  // SASL sealing encrypts the connection
                if c.allowPlainLoopback && uri.isLoopback { break }
                if c.allowPlainLoopback {
                    throw r.invalid("uri", "\(text) is plain LDAP to a host that is not loopback: allow_plain_loopback covers 127.0.0.0/8, ::1 and localhost only; use ldaps:// or start_tls = true")
                }
                throw r.invalid("uri", "\(text) is plain LDAP: the bind password would cross the network in clear; use ldaps://, set start_tls = true, or bind with gssapi")
            }
            if c.bindMethod == .external && uri.scheme != .ldapi {
                throw r.invalid("bind_method", "\"external\" needs ldapi:// URIs (peer credentials); \(text) is not one")
            }
        }
    }

    static func checkDN(_ dn: String, _ key: String, _ r: TableReader) throws(ConfigError) {
        guard dn.contains("="), !dn.contains("\n"), !dn.contains("\0") else {
            throw r.invalid(key, "\"\(dn)\" is not a DN (e.g. \"dc=example,dc=org\")")
        }
    }

    static func checkFilter(_ f: String, _ r: TableReader) throws(ConfigError) {
        guard f.hasPrefix("("), f.hasSuffix(")") else { throw r.invalid("user_filter", "an LDAP filter is written in parentheses, e.g. \"(objectClass=inetOrgPerson)\"") }
        var depth = 0
        for ch in f {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1; if depth < 0 { break } }
        }
        guard depth == 0 else { throw r.invalid("user_filter", "unbalanced parentheses") }
    }

    /// An attribute description: a name (letters, digits, '-') or an OID.
    static func isAttributeName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, s.unicodeScalars.count <= 128 else { return false }
        if first.properties.numericType != nil {
            return s.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || $0 == "." }
        }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
            && first.properties.isAlphabetic
    }
}
