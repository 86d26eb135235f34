import Testing
import WritebackCore
@testable import WritebackConfig

/// The shipped examples in config/ must always load: they are what administrators copy.
@Suite("Example configurations")
struct ExampleConfigTests {
    static let configDir: String = {
        // Tests/WritebackConfigTests/ExampleConfigTests.swift → repository root
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/config"
    }()

    static func load(_ name: String) throws(ConfigError) -> Configuration {
        let path = configDir + "/" + name
        return try ConfigLoader.parse(toml: try ConfigLoader.readText(path), path: path,
                                      groupExists: { ["writebackd", "sudo"].contains($0) })
    }

    @Test("writebackd.toml loads and states exactly the defaults")
    func reference() throws {
        let c = try Self.load("writebackd.toml")
        #expect(c.policy == PolicyConfig())
        #expect(c.licenses == LicensesConfig())
        var q = QueueConfig(); q.url = nil
        #expect(c.queue == q)
        #expect(c.control == ControlConfig())
        #expect(c.state == StateConfig())
        #expect(c.audit == AuditConfig())
        var d = DirectoryConfig(flavor: .openldap, uris: ["ldaps://ldap1.example.org", "ldaps://ldap2.example.org"],
                                baseDN: "ou=people,dc=example,dc=org")
        d.caFile = "/etc/writebackd/directory-ca.pem"
        d.bindDN = "cn=writebackd,ou=services,dc=example,dc=org"
        d.bindPasswordFile = "/run/credentials/writebackd.service/bind-password"
        #expect(c.directory == d)
        #expect(c.outbox == OutboxConfig(dir: "/var/lib/writebackd/outbox"))
    }

    @Test("every key of every section is written in writebackd.toml")
    func everyKeyDocumented() throws {
        let text = try ConfigLoader.readText(Self.configDir + "/writebackd.toml")
        let all: [(String, [String])] = [
            ("directory", DirectorySection.keys), ("queue", QueueSection.keys), ("keys", KeysSection.keys),
            ("policy", PolicySection.keys), ("licenses", LicensesSection.keys), ("outbox", OutboxSection.keys),
            ("control", ControlSection.keys), ("state", StateSection.keys), ("audit", AuditSection.keys),
        ]
        for (section, keys) in all {
            #expect(text.contains("[\(section)]"), "[\(section)]")
            for key in keys {
                #expect(text.contains("\n\(key) =") || text.contains("\n# \(key) ="), "\(section).\(key) is not in writebackd.toml")
            }
        }
    }

    @Test("active-directory.toml loads")
    func activeDirectory() throws {
        let c = try Self.load("active-directory.toml")
        #expect(c.directory.flavor == .activeDirectory)
        #expect(c.policy.ssprScope == .selected && c.policy.methodsRequired == 2)
        #expect(c.directory.alternateMailAttribute == "otherMailbox")
    }

    @Test("several-directories.toml loads: two directories, routes, per-directory rules")
    func severalDirectories() throws {
        let c = try Self.load("several-directories.toml")
        #expect(c.directories.map(\.name) == ["corp", "contoso"])
        #expect(c.directories.map(\.flavor) == [.openldap, .activeDirectory])
        #expect(c.directories[0].isDefault && c.directories[1].routes == [.suffix("contoso.com"), .prefix("contoso")])
        let contoso = c.policy(for: c.directories[1])
        #expect(contoso.ssprScope == .selected && contoso.minLength == 14 && contoso.historyCount == 12)
        #expect(c.policy(for: c.directories[0]).minLength == 10)
        let router = DirectoryRouter(directories: c.directories)
        #expect(router.route("CONTOSO\\bob") == .directory(index: 1, lookup: "bob"))
        #expect(router.route("alice") == .directory(index: 0, lookup: "alice"))
    }

    @Test("openldap.toml loads")
    func openldap() throws {
        let c = try Self.load("openldap.toml")
        #expect(c.directory.flavor == .openldap && c.directory.startTLS)
        #expect(c.directory.timeoutSeconds == 5)
        #expect(c.directory.groupBaseDN == "ou=groups,dc=example,dc=org")
        #expect(c.keys.producerPublicKeys.count == 2)
        #expect(!c.licenses.enforce)
        #expect(c.control.metricsListen == "127.0.0.1:9469")
    }
}
