/// A minimal valid configuration as ordered sections of lines, with edits applied per test:
/// `["directory": ["uri = \"ldap://x\""]]` replaces (or appends) that key; `"key = <delete>"`
/// removes it. Keeps the tables of cases short and the line numbers predictable.
enum ConfigFixture {
    static let sections: [(name: String, lines: [String])] = [
        ("directory", [
            "flavor = \"openldap\"",
            "uri = [\"ldaps://ldap1.example.org\", \"ldaps://ldap2.example.org:1636\"]",
            "base_dn = \"ou=people,dc=example,dc=org\"",
            "bind_dn = \"cn=writebackd,ou=services,dc=example,dc=org\"",
            "bind_password_file = \"/run/credentials/writebackd.service/bind-password\"",
        ]),
        ("queue", []),
        ("keys", [
            "producer_public_keys = [\"/etc/writebackd/producer-signing.pub\"]",
            "sealing_private_key = \"/etc/writebackd/daemon-sealing.key\"",
            "sealing_public_key = \"/etc/writebackd/daemon-sealing.pub\"",
        ]),
        ("policy", []),
        ("licenses", []),
        ("outbox", []),
        ("control", ["group = \"writebackd\""]),
        ("state", []),
        ("audit", []),
    ]

    /// Groups that "exist" in tests.
    static func groupExists(_ name: String) -> Bool { ["writebackd", "wbadmin", "root"].contains(name) }

    static func text(_ edits: [String: [String]] = [:], extra: String = "") -> String {
        var out: [String] = []
        for (name, base) in sections {
            var lines = base
            for edit in edits[name] ?? [] {
                let key = edit.split(separator: "=", maxSplits: 1)[0].trimmingCharacters()
                let existing = lines.firstIndex { $0.split(separator: "=", maxSplits: 1)[0].trimmingCharacters() == key }
                if edit.hasSuffix("<delete>") {
                    if let existing { lines.remove(at: existing) }
                } else if let existing {
                    lines[existing] = edit
                } else {
                    lines.append(edit)
                }
            }
            out.append("[\(name)]")
            out += lines
            out.append("")
        }
        return out.joined(separator: "\n") + extra
    }

    /// 1-based line of `key = ` inside `[section]` in `text`.
    static func line(of key: String, in section: String, text: String) -> Int? {
        var current = ""
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("[") { current = String(line.dropFirst().dropLast()) }
            if current == section, line.split(separator: "=", maxSplits: 1).first?.trimmingCharacters() == key { return i + 1 }
        }
        return nil
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
