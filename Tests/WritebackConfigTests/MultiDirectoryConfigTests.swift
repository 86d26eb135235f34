import Testing
import WritebackCore
@testable import WritebackConfig

/// `[[directory]]`: several directories routed by the user's domain. Each refusal names the
/// entry, its line and, for a clash, the other entry and its line.
@Suite("ConfigLoader: several directories")
struct MultiDirectoryConfigTests {
    static let path = "/etc/writebackd/test.toml"

    func parse(_ text: String) throws(ConfigError) -> Configuration {
        try ConfigLoader.parse(toml: text, path: Self.path, groupExists: ConfigFixture.groupExists)
    }

    /// Two entries (corp, contoso) with `extra` lines appended to each, then the other sections.
    static func text(corp: [String] = [], contoso: [String] = [], policy: [String] = [], tail: String = "") -> String {
        let rest = ConfigFixture.text(["policy": policy]).split(separator: "\n", omittingEmptySubsequences: false)
        // ConfigFixture's [directory] table is its first six lines; the rest are the other sections.
        let others = rest.drop { !$0.hasPrefix("[queue]") }.joined(separator: "\n")
        return """
        [[directory]]
        name = "corp"
        flavor = "openldap"
        uri = "ldaps://ldap.example.org"
        base_dn = "dc=example,dc=org"
        bind_dn = "cn=writebackd,ou=services,dc=example,dc=org"
        bind_password_file = "/run/credentials/writebackd.service/corp-bind"
        route = ["@example.org", "EXAMPLE\\\\"]
        default = true
        \(corp.joined(separator: "\n"))

        [[directory]]
        name = "contoso"
        flavor = "active-directory"
        uri = ["ldaps://dc1.contoso.com", "ldaps://dc2.contoso.com"]
        base_dn = "DC=contoso,DC=com"
        bind_dn = "CN=svc-writeback,OU=Service,DC=contoso,DC=com"
        bind_password_file = "/run/credentials/writebackd.service/contoso-bind"
        route = ["@contoso.com", "CONTOSO\\\\"]
        \(contoso.joined(separator: "\n"))

        \(others)
        \(tail)
        """
    }

    static func line(of fragment: String, in text: String, after: String? = nil) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var start = 0
        if let after, let i = lines.firstIndex(where: { $0.contains(after) }) { start = i }
        return lines[start...].firstIndex { $0.contains(fragment) }.map { $0 + 1 }
    }

    @Test("two directories load with names, routes, default and their own policy")
    func twoDirectories() throws {
        let text = Self.text(contoso: ["connections = 2", "strip_suffix = true", "", "[directory.policy]", "min_length = 14",
                                       "protected_groups = [\"CN=Tier0,OU=Groups,DC=contoso,DC=com\"]"],
                             policy: ["min_length = 10", "history_count = 12"])
        let c = try parse(text)
        #expect(c.directories.map(\.name) == ["corp", "contoso"])
        #expect(c.directories[0].routes == [.suffix("example.org"), .prefix("example")])
        #expect(c.directories[0].isDefault && !c.directories[1].isDefault)
        #expect(c.directories[1].uris.count == 2 && c.directories[1].connections == 2)
        #expect(c.directories[1].stripSuffix && c.directories[1].stripPrefix && !c.directories[0].stripSuffix)
        // corp: [policy] as written; contoso: its overrides over [policy].
        #expect(c.directories[0].policy == nil)
        #expect(c.policy(for: c.directories[0]).minLength == 10)
        let contoso = c.policy(for: c.directories[1])
        #expect(contoso.minLength == 14 && contoso.historyCount == 12)
        #expect(contoso.protectedGroups == ["CN=Tier0,OU=Groups,DC=contoso,DC=com"])
        #expect(c.policy(for: c.directories[0]).protectedGroups.isEmpty)
        #expect(c.directory.name == "corp")   // the first, for single-directory callers
    }

    @Test("a single [directory] table is unchanged: named \"default\", no routes, every user")
    func singleTable() throws {
        let c = try parse(ConfigFixture.text())
        #expect(c.directories.count == 1)
        #expect(c.directory.name == "default" && c.directory.routes.isEmpty && c.directory.policy == nil)
        #expect(DirectoryRouter(directories: c.directories).route("anyone@anywhere.test") == .directory(index: 0, lookup: "anyone@anywhere.test"))
    }

    @Test("a single [directory] table may have a name, routes and [directory.policy]")
    func singleTableWithRouting() throws {
        let text = ConfigFixture.text(["directory": ["name = \"corp\"", "route = \"@example.org\""]],
                                      extra: "\n[directory.policy]\nmin_length = 12\n")
        let c = try parse(text)
        #expect(c.directory.name == "corp" && c.directory.routes == [.suffix("example.org")])
        #expect(c.policy(for: c.directory).minLength == 12 && c.policy.minLength == 8)
    }

    @Test("an overlapping route is refused with file, line and both names")
    func overlap() throws {
        let text = Self.text(contoso: ["route = [\"@contoso.com\", \"@Example.ORG\"]"])
            .replacingOccurrences(of: "route = [\"@contoso.com\", \"CONTOSO\\\\\"]\n", with: "")
        let e = try #require(throws: ConfigError.self) { try parse(text) }
        let corpLine = try #require(Self.line(of: "route = [\"@example.org\"", in: text))
        let contosoLine = try #require(Self.line(of: "@Example.ORG", in: text))
        #expect(e.file == Self.path)
        #expect(e.line == contosoLine)
        #expect(e.key == "directory[contoso].route")
        #expect(e.reason.contains("\"@example.org\" overlaps directory \"corp\" (\(Self.path):\(corpLine))"), "\(e)")
        #expect(e.description.hasPrefix("\(Self.path):\(contosoLine): directory[contoso].route:"))
    }

    @Test("an overlapping NetBIOS prefix is refused too, case-insensitively")
    func overlapPrefix() throws {
        let text = Self.text(contoso: []).replacingOccurrences(of: "route = [\"@contoso.com\", \"CONTOSO\\\\\"]", with: "route = [\"@contoso.com\", \"example\\\\\"]")
        let e = try #require(throws: ConfigError.self) { try parse(text) }
        #expect(e.key == "directory[contoso].route")
        #expect(e.reason.contains("\"example\\\" overlaps directory \"corp\""), "\(e)")
        #expect(e.line == Self.line(of: "example\\\\\"]", in: text, after: "name = \"contoso\""))
    }

    /// (text, key named in the error, a fragment of the reason)
    static let invalid: [(String, String, String)] = [
        (text(contoso: ["default = true"]), "directory[contoso].default", "directory \"corp\" (\(path):9) is the default already"),
        (text().replacingOccurrences(of: "name = \"contoso\"", with: "name = \"CORP\""), "directory[CORP].name", "also the name of the directory at \(path):2"),
        (text().replacingOccurrences(of: "name = \"contoso\"\n", with: ""), "directory[#2].name", "missing"),
        (text().replacingOccurrences(of: "name = \"contoso\"", with: "name = \"con toso\""), "directory[con toso].name", "not a directory name"),
        (text(contoso: ["route = [\"contoso.com\"]"]).replacingOccurrences(of: "route = [\"@contoso.com\", \"CONTOSO\\\\\"]\n", with: ""),
         "directory[contoso].route", "is not a route"),
        (text(contoso: ["route = [\"@a.test\", \"@A.test\"]"]).replacingOccurrences(of: "route = [\"@contoso.com\", \"CONTOSO\\\\\"]\n", with: ""),
         "directory[contoso].route", "listed twice"),
        (text().replacingOccurrences(of: "route = [\"@contoso.com\", \"CONTOSO\\\\\"]\n", with: ""), "directory[contoso].route", "would receive no request"),
        (text().replacingOccurrences(of: "DC=contoso,DC=com\"\nbind_dn", with: "dc=Example, dc=org\"\nbind_dn"),
         "directory[contoso].base_dn", "same tree as directory \"corp\"'s base_dn (\(path):5)"),
        (text(policy: ["sspr_groups = [\"cn=sspr,dc=example,dc=org\"]"]), "policy.sspr_groups", "set sspr_groups in that entry's [directory.policy]"),
        (text(policy: ["protected_groups = [\"cn=t0,dc=example,dc=org\"]"]), "policy.protected_groups", "belong to one directory"),
        (text(contoso: ["[directory.policy]", "min_lenght = 3"]), "directory[contoso].policy.min_lenght", "did you mean"),
        (text(contoso: ["[directory.policy]", "min_length = 300"]), "directory[contoso].policy.min_length", "out of range"),
        (text(contoso: ["[directory.policy]", "sspr_scope = \"selected\""]), "directory[contoso].policy.sspr_scope", "needs sspr_groups"),
        (text(policy: ["sspr_scope = \"selected\""]), "directory[corp].policy.sspr_scope", "needs sspr_groups"),
        (text(contoso: ["timeout_seconds = 40"]), "queue.lease_seconds", "twice directory[contoso].timeout_seconds"),
        (text(contoso: ["policy = 3"]), "directory[contoso].policy", "expected a table"),
        ("directory = []\n" + ConfigFixture.text().split(separator: "\n", omittingEmptySubsequences: false).drop { !$0.hasPrefix("[queue]") }.joined(separator: "\n"),
         "directory", "at least one directory"),
    ]

    @Test("refusals name the entry", arguments: invalid.indices)
    func refusals(_ i: Int) throws {
        let (text, key, fragment) = Self.invalid[i]
        let e = try #require(throws: ConfigError.self) { try parse(text) }
        #expect(e.key == key, "\(e)")
        #expect(e.description.contains(fragment), "\(e)")
        #expect(e.file == Self.path)
    }

    @Test("selected scope in [policy] is fine when every directory names its groups")
    func selectedPerDirectory() throws {
        let text = Self.text(corp: ["[directory.policy]", "sspr_groups = [\"cn=sspr,ou=groups,dc=example,dc=org\"]"],
                             contoso: ["[directory.policy]", "sspr_groups = [\"CN=SSPR,OU=Groups,DC=contoso,DC=com\"]"],
                             policy: ["sspr_scope = \"selected\""])
        let c = try parse(text)
        #expect(c.directories.map { c.policy(for: $0).ssprScope } == [.selected, .selected])
        #expect(c.directories.map { c.policy(for: $0).ssprGroups.count } == [1, 1])
    }

    @Test("nested base DNs are allowed (an AD forest under the OpenLDAP tree's domain)")
    func nestedBases() throws {
        let text = Self.text().replacingOccurrences(of: "DC=contoso,DC=com\"\nbind_dn", with: "DC=corp,DC=example,DC=org\"\nbind_dn")
        #expect(try parse(text).directories[1].baseDN == "DC=corp,DC=example,DC=org")
    }

    @Test("errors inside an entry point at that entry's line")
    func entryLines() throws {
        let text = Self.text(contoso: ["connections = 0"])
        let e = try #require(throws: ConfigError.self) { try parse(text) }
        #expect(e.key == "directory[contoso].connections")
        #expect(e.line == Self.line(of: "connections = 0", in: text))
    }
}
