import Testing
@testable import WritebackCore

/// Routing a request's `user` to one of several directories: one line per rule, hostile
/// input included.
@Suite struct DirectoryRouterTests {
    static func directory(_ name: String, base: String, routes: [String], isDefault: Bool = false,
                          stripPrefix: Bool = true, stripSuffix: Bool = false) -> DirectoryConfig {
        var d = DirectoryConfig(flavor: .activeDirectory, uris: ["ldaps://\(name).test"], baseDN: base)
        d.name = name
        d.routes = routes.map { DirectoryRoute($0)! }
        d.isDefault = isDefault; d.stripPrefix = stripPrefix; d.stripSuffix = stripSuffix
        return d
    }

    /// corp (default): @example.org, EXAMPLE\; contoso: @contoso.com, @eu.contoso.com, CONTOSO\;
    /// fabrikam (OpenLDAP, uid = bare name): @fabrikam.net looked up without the suffix.
    static let router = DirectoryRouter(directories: [
        directory("corp", base: "dc=example,dc=org", routes: ["@example.org", "EXAMPLE\\"], isDefault: true),
        directory("contoso", base: "dc=contoso,dc=com", routes: ["@contoso.com", "@EU.Contoso.com", "CONTOSO\\"]),
        directory("fabrikam", base: "dc=fabrikam,dc=net", routes: ["@fabrikam.net", "FAB\\"], stripPrefix: false, stripSuffix: true),
    ])

    @Test("users go to the directory that owns their suffix or prefix", arguments: [
        ("alice@example.org", 0, "alice@example.org"),       // a UPN is looked up whole
        ("EXAMPLE\\alice", 0, "alice"),                      // a down-level name without its prefix
        ("alice", 0, "alice"),                               // bare: the default directory
        ("bob@contoso.com", 1, "bob@contoso.com"),
        ("Bob@CONTOSO.COM", 1, "Bob@CONTOSO.COM"),           // routes compare case-insensitively; the lookup keeps the case
        ("contoso\\bob", 1, "bob"),
        ("bob@eu.contoso.com", 1, "bob@eu.contoso.com"),
        ("carol@fabrikam.net", 2, "carol"),                  // strip_suffix = true
        ("FAB\\carol", 2, "FAB\\carol"),                     // strip_prefix = false
        ("a@b@contoso.com", 1, "a@b@contoso.com"),           // the last @ decides
        ("CONTOSO\\bob@example.org", 1, "bob@example.org"),  // a prefix wins over a suffix
    ])
    func routed(user: String, index: Int, lookup: String) {
        #expect(Self.router.route(user) == .directory(index: index, lookup: lookup))
    }

    @Test("users no directory owns are unmatched, with the reason", arguments: [
        ("eve@gmail.com", "no directory has the route \"@gmail.com\""),
        ("eve@sub.contoso.com", "no directory has the route \"@sub.contoso.com\""),   // exact domains only
        ("NOPE\\eve", "no directory has the route \"NOPE\\\""),
        ("\\eve", "no directory has the route \"\\\""),
        ("eve@", "no directory has the route \"@\""),
        ("CONTOSO\\", "no user name after \"CONTOSO\\\""),
        ("@fabrikam.net", "no user name before \"@fabrikam.net\""),
        ("eve@evil\u{0}\"\n.com", "no directory has the route \"@evil.com\""),          // control characters and quotes dropped
    ])
    func unmatched(user: String, reason: String) {
        #expect(Self.router.route(user) == .unmatched(reason: reason))
    }

    @Test("a domain in the reason is cut at 64 characters")
    func longDomain() {
        let domain = String(repeating: "x", count: 300)
        guard case .unmatched(let reason) = Self.router.route("eve@" + domain) else { Issue.record("routed"); return }
        #expect(reason.count < 120)
    }

    @Test("without a default directory a bare name is unmatched")
    func noDefault() {
        let router = DirectoryRouter(directories: [
            Self.directory("a", base: "dc=a", routes: ["@a.test"]), Self.directory("b", base: "dc=b", routes: ["@b.test"]),
        ])
        #expect(router.route("alice") == .unmatched(reason: "a user name without @domain or DOMAIN\\ and no directory has default = true"))
        #expect(router.route("alice@b.test") == .directory(index: 1, lookup: "alice@b.test"))
    }

    @Test("one directory without routes takes every user unchanged (the single [directory] table)")
    func single() {
        let router = DirectoryRouter(directories: [DirectoryConfig(flavor: .openldap, uris: ["ldapi:///"], baseDN: "dc=example,dc=org")])
        for user in ["alice", "alice@example.org", "EXAMPLE\\alice", "eve@gmail.com", ""] {
            #expect(router.route(user) == .directory(index: 0, lookup: user))
        }
    }

    @Test("one directory with routes routes like several")
    func singleWithRoutes() {
        let router = DirectoryRouter(directories: [Self.directory("a", base: "dc=a", routes: ["@a.test"])])
        #expect(router.route("x@a.test") == .directory(index: 0, lookup: "x@a.test"))
        #expect(router.route("x@b.test") == .unmatched(reason: "no directory has the route \"@b.test\""))
    }

    @Test("routes parse as @domain or DOMAIN\\, nothing else", arguments: [
        ("@contoso.com", DirectoryRoute.suffix("contoso.com")), ("@Contoso.COM", .suffix("contoso.com")),
        ("CONTOSO\\", .prefix("contoso")), ("my-dom_1\\", .prefix("my-dom_1")),
    ])
    func parses(text: String, route: DirectoryRoute) {
        #expect(DirectoryRoute(text) == route)
    }

    @Test("malformed routes are refused", arguments: [
        "contoso.com", "@", "\\", "@a@b", "@a b", "CON TOSO\\", "a\\b\\", "@evil\u{0}", "", "*@x", "@x\\",
    ])
    func refused(text: String) {
        #expect(DirectoryRoute(text) == nil)
    }

    @Test("routed(user:) reduces a configuration to the owner, with its rules as [policy]")
    func routedConfiguration() throws {
        var b = Self.directory("b", base: "dc=b", routes: ["@b.test"])
        var rules = PolicyConfig(); rules.minLength = 14
        b.policy = rules
        let config = Configuration(directories: [Self.directory("a", base: "dc=a", routes: ["@a.test"], isDefault: true), b],
                                   queue: .init(), keys: .init(producerPublicKeys: [], sealingPrivateKey: "", sealingPublicKey: ""),
                                   outbox: .init(dir: "/x"), state: .init())
        let routed = try config.routed(user: "bob@b.test").get()
        #expect(routed.configuration.directories.map(\.name) == ["b"])
        #expect(routed.configuration.policy.minLength == 14)
        #expect(routed.lookup == "bob@b.test")
        #expect(try config.routed(user: "alice").get().configuration.policy.minLength == 8)
        #expect((try? config.routed(user: "eve@c.test").get()) == nil)
    }
}
