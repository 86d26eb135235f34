import Foundation
import Testing
import TestSupport
import WritebackCore
@testable import LDAPDirectory

/// The pool's mechanics: which thread libldap runs on, fail-over order and fail-back, reuse
/// after shutdown.
@Suite("OpenLDAP pool")
struct OpenLDAPPoolTests {
    @Test("fail-over order: a URI that failed is skipped, then retried after retryAfter")
    func failOverOrder() {
        let t = EndpointTracker(uris: ["a", "b", "c"], retryAfter: 30)
        let now = Date()
        #expect(t.order(now: now) == [0, 1, 2])
        t.markDown(0, error: "refused", now: now)
        #expect(t.order(now: now.addingTimeInterval(1)) == [1, 2, 0])
        #expect(t.preferred(now: now.addingTimeInterval(1)) == 1)
        #expect(t.order(now: now.addingTimeInterval(31)) == [0, 1, 2])   // due for a retry: first again
        t.markDown(1, error: "refused", now: now)
        #expect(t.order(now: now.addingTimeInterval(1)) == [2, 0, 1])
        t.markUp(0)
        #expect(t.order(now: now.addingTimeInterval(1)) == [0, 2, 1])
        #expect(t.health().map(\.up) == [true, false, true])
        #expect(t.health()[1].lastError == "refused")
    }

    @Test("libldap runs on the connections' own threads, never on the cooperative pool")
    func dedicatedThreads() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd, connections: 3)
            let names = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        try await dir.pool.withHandle { h throws(LDAPError) in
                            _ = try h.rootDSE(attributes: ["namingContexts"])
                            // The OS thread's name, as the connection set it.
                            return (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
                                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                        }
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(!names.isEmpty)
            #expect(names.allSatisfy { $0.hasPrefix("ldap-") }, "threads: \(names)")
            await dir.shutdown()
            // Used again after shutdown: the connection thread comes back instead of hanging.
            let again = try await dir.findUser(identity: "alice", groupsOfInterest: [])
            #expect(again.accountName == "alice")
            await dir.shutdown()
        }
    }

    @Test("the RootDSE and a compare through the low-level API")
    func lowLevel() async throws {
        try await withSlapd { slapd in
            let dir = try OpenLDAPFixture.service(slapd)
            let dse = try await dir.pool.withHandle { h throws(LDAPError) in try h.rootDSE() }
            #expect(dse.strings("namingContexts") == [slapd.baseDN])
            #expect(dse.strings("supportedExtension").contains("1.3.6.1.4.1.4203.1.11.1"))   // Password Modify
            let dn = slapd.userDN("alice")
            let yes = try await dir.pool.withHandle { h throws(LDAPError) in try h.compare(dn: dn, attribute: "mail", value: .string("alice@example.org")) }
            let no = try await dir.pool.withHandle { h throws(LDAPError) in try h.compare(dn: dn, attribute: "mail", value: .string("bob@example.org")) }
            #expect(yes && !no)
            await dir.shutdown()
        }
    }
}
