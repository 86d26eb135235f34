@testable import AuditTrail
import Foundation
import Testing

/// `audit show`: which lines match a user, `--since` parsing, and hostile lines refused by the
/// entry parser.
@Suite("Audit trail: show and parse")
struct AuditQueryTests {
    static func entry(user: String?, dn: String?, at: String = "2026-12-01T10:00:00.000Z", type: String = "request") throws -> AuditEntry {
        var members: [(String, AuditJSON)] = [("seq", .int(1)), ("prev", .string(AuditChain.genesis)), ("type", .string(type)), ("at", .string(at))]
        members += [("user", .optional(user)), ("user_dn", .optional(dn))]
        return try AuditEntry.parse(AuditJSON.object(members))
    }

    @Test("user matching", arguments: [
        ("alice", "alice", "uid=alice,ou=people,dc=example,dc=org", true),
        ("ALICE", "alice@example.org", nil, true),
        ("alice", "EXAMPLE\\alice", nil, true),
        ("alice", "a.smith", "cn=Alice,ou=people,dc=example,dc=org", true),
        ("uid=alice,ou=people,dc=example,dc=org", "x", "UID=alice,ou=people,dc=example,dc=org", true),
        ("alic", "alice", "uid=alice,dc=example", false),
        ("alice", nil, nil, false),
        ("*", "alice", nil, false),
        ("", "alice", nil, false),
    ] as [(String, String?, String?, Bool)])
    func matching(_ wanted: String, _ user: String?, _ dn: String?, _ expected: Bool) throws {
        #expect(AuditQuery.matches(try Self.entry(user: user, dn: dn), user: wanted) == expected)
    }

    @Test("only request lines match")
    func onlyRequests() throws {
        #expect(!AuditQuery.matches(try Self.entry(user: "alice", dn: nil, type: "open"), user: "alice"))
    }

    static let now: Double = 1_796_200_000
    static let sinceCases: [(String, Double)] = [
        ("2026-12-01T08:00:00Z", 1_796_112_000), ("2026-12-01", 1_796_083_200),
        ("90m", now - 5400), ("36h", now - 129_600), ("7d", now - 604_800), ("2w", now - 1_209_600),
    ]

    @Test("--since", arguments: sinceCases)
    func since(_ text: String, _ expected: Double) {
        #expect(AuditQuery.since(text, now: Date(timeIntervalSince1970: 1_796_200_000))?.timeIntervalSince1970 == expected)
    }

    @Test("--since refuses what it does not understand", arguments: ["", "yesterday", "5x", "-5d", "d", "1e400d", "nand", "2026-13-01"])
    func sinceHostile(_ text: String) {
        #expect(AuditQuery.since(text, now: Date()) == nil)
    }

    @Test("select filters by user and time, in trail order")
    func select() throws {
        let entries = [
            try Self.entry(user: "alice", dn: nil, at: "2026-11-01T00:00:00.000Z"),
            try Self.entry(user: "bob", dn: nil, at: "2026-12-01T00:00:00.000Z"),
            try Self.entry(user: "alice", dn: nil, at: "2026-12-02T00:00:00.000Z"),
        ]
        #expect(AuditQuery.select(entries, user: "alice", since: nil).map(\.at) == ["2026-11-01T00:00:00.000Z", "2026-12-02T00:00:00.000Z"])
        #expect(AuditQuery.select(entries, user: "alice", since: AuditQuery.since("2026-11-15", now: Date())).count == 1)
    }

    @Test("hostile lines are refused with the reason, never quoted", arguments: [
        ("", "not JSON"), ("[]", "not JSON"), ("{\"seq\":1}", "prev"), ("{\"seq\":-1,\"prev\":\"x\"}", "seq"),
        ("{\"seq\":\"1\",\"prev\":\"\(String(repeating: "0", count: 64))\",\"type\":\"request\",\"at\":\"x\"}", "seq"),
        ("{\"seq\":1,\"prev\":\"\(String(repeating: "g", count: 64))\",\"type\":\"request\",\"at\":\"x\"}", "prev"),
        ("{\"seq\":1,\"prev\":\"\(String(repeating: "0", count: 64))\",\"type\":\"evil\",\"at\":\"x\"}", "unknown type"),
        ("{\"seq\":1,\"seq\":2}", "duplicate"), ("{\"seq\":1,\"prev\":\"\u{0}\"}", "NUL"),
        ("{\"seq\":1,\"prev\":\"\(String(repeating: "0", count: 64))\",\"type\":\"request\"}", "at"),
    ])
    func hostile(_ line: String, _ reason: String) {
        #expect {
            _ = try AuditEntry.parse(Array(line.utf8))
        } throws: { error in
            "\(error)".contains(reason) && !(line.count > 8 && "\(error)".contains(line))
        }
    }

    @Test("timestamps: UTC milliseconds, also before 1970")
    func time() {
        #expect(AuditTime.format(Date(timeIntervalSince1970: 1_796_112_000.5)) == "2026-12-01T08:00:00.500Z")
        #expect(AuditTime.format(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59.750Z")
    }
}
