import Testing
@testable import WritebackConfig

@Suite("LDAPURI and KeyLocator")
struct LDAPURITests {
    /// (uri, scheme, host, port, loopback)
    static let good: [(String, LDAPURI.Scheme, String, Int, Bool)] = [
        ("ldap://127.0.0.1:3389", .ldap, "127.0.0.1", 3389, true),
        ("ldap://127.5.6.7/", .ldap, "127.5.6.7", 389, true),
        ("ldaps://dc1.example.org", .ldaps, "dc1.example.org", 636, false),
        ("LDAPS://DC1.example.org:3269", .ldaps, "DC1.example.org", 3269, false),
        ("ldap://[::1]:1389", .ldap, "::1", 1389, true),
        ("ldap://[2001:db8::1]", .ldap, "2001:db8::1", 389, false),
        ("ldap://localhost", .ldap, "localhost", 389, true),
        ("ldap://128.0.0.1", .ldap, "128.0.0.1", 389, false),
        ("ldap://127.0.0.1.example.org", .ldap, "127.0.0.1.example.org", 389, false),
        ("ldapi://%2Frun%2Fslapd%2Fldapi", .ldapi, "", 0, true),
        ("ldapi:///", .ldapi, "", 0, true),
    ]

    @Test("URIs parse", arguments: good.indices)
    func parses(_ i: Int) throws {
        let (text, scheme, host, port, loopback) = Self.good[i]
        let uri = try LDAPURI.parse(text).get()
        #expect(uri.scheme == scheme && uri.host == host && uri.port == port && uri.isLoopback == loopback)
    }

    @Test("ldapi socket paths are decoded")
    func ldapiPath() throws {
        #expect(try LDAPURI.parse("ldapi://%2Ftmp%2Fa%20b%2Fldapi").get().socketPath == "/tmp/a b/ldapi")
    }

    @Test("bad URIs are refused", arguments: ["ldap.example.org", "http://x", "ldap://", "ldap://h:99999", "ldap://h:x",
                                            "ldap://h/dc=example", "ldapi://run%2Fslapd", "ldapi://%zz", "ldap://[::1"])
    func refused(_ text: String) {
        #expect(throws: URIProblem.self) { try LDAPURI.parse(text).get() }
    }

    @Test("the locator finds headers, plain, quoted and dotted keys")
    func locator() {
        let text = """
        # comment
        [directory]
        uri = "x"   # trailing
          "base_dn" = "y"
        a.b = 1
        text = \"\"\"
        fake = 1
        \"\"\"
        after = 2
        [ policy ]
        min_length=3
        """
        let l = KeyLocator(text: text)
        #expect(l.line(of: "directory") == 2)
        #expect(l.line(of: "directory.uri") == 3)
        #expect(l.line(of: "directory.base_dn") == 4)
        #expect(l.line(of: "directory.a.b") == 5)
        #expect(l.line(of: "directory.a") == 5)
        #expect(l.line(of: "directory.fake") == 2)  // inside a multi-line string: not a key
        #expect(l.line(of: "directory.after") == 9)
        #expect(l.line(of: "policy.min_length") == 11)
        #expect(l.line(of: "policy.unknown") == 10)
        #expect(l.line(of: "nothing") == nil)
    }
}
