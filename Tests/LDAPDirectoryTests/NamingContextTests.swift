import Foundation
import Testing
@testable import LDAPDirectory

/// Which naming context holds `base_dn` (the default of `group_base_dn`), and the TTL cache
/// that keeps directory facts for a few minutes.
@Suite("Naming contexts and caches")
struct NamingContextTests {
    static let contexts = ["dc=example,dc=org", "dc=sub,dc=example,dc=org", "o=other", "cn=config"]

    @Test("the longest context that holds the DN, whole components only", arguments: [
        ("ou=people,dc=example,dc=org", "dc=example,dc=org"),
        ("dc=example,dc=org", "dc=example,dc=org"),
        ("OU=People, DC=Example, DC=ORG", "dc=example,dc=org"),        // case and spaces
        ("ou=people,dc=sub,dc=example,dc=org", "dc=sub,dc=example,dc=org"),
        ("ou=x,o=other", "o=other"),
        ("ou=people,dc=myexample,dc=org", nil),                        // not a component suffix
        ("ou=people,dc=org", nil),
        ("dc=org", nil),
        ("", nil),
        (",,,", nil),
        ("ou=people,,dc=example,dc=org", nil),                         // an empty RDN is no DN
        ("cn=config", "cn=config"),
    ] as [(String, String?)])
    func holding(dn: String, expected: String?) {
        #expect(NamingContext.holding(dn, among: Self.contexts) == expected)
    }

    @Test("no contexts, or only blank ones, hold nothing")
    func emptyContexts() {
        #expect(NamingContext.holding("ou=people,dc=example,dc=org", among: []) == nil)
        #expect(NamingContext.holding("ou=people,dc=example,dc=org", among: ["", " "]) == nil)
    }

    @Test("cache entries expire after the TTL and all go at once on removeAll")
    func cacheExpiry() {
        let cache = ExpiringCache<String, Int>(ttl: .seconds(300), capacity: 3)
        let t0 = ContinuousClock.now
        cache.store(1, for: "a", now: t0)
        #expect(cache.value(for: "a", now: t0 + .seconds(299)) == 1)
        #expect(cache.value(for: "a", now: t0 + .seconds(300)) == nil)
        cache.store(2, for: "b", now: t0)
        cache.removeAll()
        #expect(cache.value(for: "b", now: t0) == nil)
        // Capacity: a full cache makes room instead of growing.
        for (i, k) in ["a", "b", "c", "d"].enumerated() { cache.store(i, for: k, now: t0) }
        #expect(cache.value(for: "d", now: t0) == 3)
    }
}
