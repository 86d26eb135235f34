import Foundation
import WritebackCore

/// Nested group membership on OpenLDAP (`groupOfNames`/`member`), where there is no
/// in-chain matching rule. It exists to answer "is this user in group G, directly or through
/// other groups" with a bounded number of searches: breadth-first upward, one search per
/// level for all groups of that level, at most `maxDepth` (8) levels, cycles ignored, and it
/// stops as soon as every group of interest has been found. `memberOf` values (when the
/// overlay is there) stand in for the first level.
struct OpenLDAPGroupWalker: Sendable {
    let baseDN: String
    let pool: LDAPPool
    var maxDepth = 8
    /// Members per search filter (keeps filters a reasonable size).
    var chunk = 64

    /// The subset of `groups` (normalised with `DirectoryUser.normalize(dn:)`) that `dn`
    /// belongs to.
    func membership(of dn: String, directGroups: [String], among groups: [String]) async throws(LDAPError) -> Set<String> {
        let wanted = Set(groups.map(DirectoryUser.normalize(dn:)))
        var found = Set<String>()
        var seen: Set<String> = [DirectoryUser.normalize(dn: dn)]
        var frontier: [String]
        var depth = 0
        if directGroups.isEmpty {
            frontier = [dn]
        } else {
            frontier = directGroups.filter { seen.insert(DirectoryUser.normalize(dn: $0)).inserted }
            found.formUnion(frontier.map(DirectoryUser.normalize(dn:)).filter(wanted.contains))
            depth = 1
        }
        while !frontier.isEmpty, depth < maxDepth, found.count < wanted.count {
            let parents = try await groupsContaining(frontier)
            frontier = parents.filter { seen.insert(DirectoryUser.normalize(dn: $0)).inserted }
            found.formUnion(frontier.map(DirectoryUser.normalize(dn:)).filter(wanted.contains))
            depth += 1
        }
        return found
    }

    /// DNs of the groups that have any of `members` as a `member`.
    private func groupsContaining(_ members: [String]) async throws(LDAPError) -> [String] {
        var out: [String] = []
        var i = 0
        while i < members.count {
            let slice = members[i..<min(i + chunk, members.count)]
            let filter = "(|" + slice.map { LDAPFilter.equality("member", $0) }.joined() + ")"
            let base = baseDN
            let dns = try await pool.withHandle { h throws(LDAPError) in
                try h.search(base: base, scope: .subtree, filter: filter, attributes: ["1.1"]).entries.map(\.dn)
            }
            out += dns
            i += chunk
        }
        return out
    }
}
