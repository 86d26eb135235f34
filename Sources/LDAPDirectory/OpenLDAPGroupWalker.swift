import Foundation
import WritebackCore

/// Nested group membership on OpenLDAP (`groupOfNames`/`member`), where there is no
/// in-chain matching rule. It exists to answer "is this user in group G, directly or through
/// other groups" with a bounded number of searches: breadth-first upward, one search per
/// level for all groups of that level, at most `maxDepth` (8) levels, cycles ignored, and it
/// stops as soon as every group of interest has been found. `memberOf` values (when the
/// overlay is there) stand in for the first level.
///
/// Groups are searched under `[directory] group_base_dn`, by default the naming context that
/// holds `base_dn` (read once from the RootDSE): the common layout keeps users in `ou=people`
/// and groups in `ou=groups`, and a walk under `base_dn` would find no group at all.
///
/// A group of interest the walk did not reach is checked once (cached for `cacheTTL`): when
/// it does not exist or the service account may not read its `member` values, membership is
/// undecided rather than "no", and the policy fails closed on it.
struct OpenLDAPGroupWalker: Sendable {
    let config: DirectoryConfig
    let pool: LDAPPool
    var maxDepth = 8
    /// Members per search filter (keeps filters a reasonable size).
    var chunk = 64
    /// The resolved group base (RootDSE read once per walker).
    private let resolvedBase = Locked<String?>(nil)
    /// Whether a group DN (normalised) can be read: exists and its `member` values are visible.
    let readable: ExpiringCache<String, Bool>

    init(config: DirectoryConfig, pool: LDAPPool, cacheTTL: Duration = .seconds(300)) {
        self.config = config
        self.pool = pool
        readable = ExpiringCache(ttl: cacheTTL)
    }

    /// What the walk found: groups of interest the user is in, and those it cannot decide.
    struct Membership: Sendable, Equatable {
        var member: Set<String>
        var undecided: Set<String>
    }

    /// The groups of `groups` (normalised with `DirectoryUser.normalize(dn:)`) that `dn`
    /// belongs to, and those whose membership cannot be decided.
    func membership(of dn: String, directGroups: [String], among groups: [String]) async throws(LDAPError) -> Membership {
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
        if found.count < wanted.count {
            let base = try await groupBase()
            while !frontier.isEmpty, depth < maxDepth, found.count < wanted.count {
                let parents = try await groupsContaining(frontier, base: base)
                frontier = parents.filter { seen.insert(DirectoryUser.normalize(dn: $0)).inserted }
                found.formUnion(frontier.map(DirectoryUser.normalize(dn:)).filter(wanted.contains))
                depth += 1
            }
        }
        var undecided = Set<String>()
        for group in groups where !found.contains(DirectoryUser.normalize(dn: group)) {
            if try await !isReadable(group) { undecided.insert(DirectoryUser.normalize(dn: group)) }
        }
        return Membership(member: found, undecided: undecided)
    }

    /// `group_base_dn`, else the naming context holding `base_dn`, else `base_dn` itself.
    func groupBase() async throws(LDAPError) -> String {
        if let configured = config.groupBaseDN { return configured }
        if let known = resolvedBase.withLock({ $0 }) { return known }
        let contexts = try await pool.withHandle { h throws(LDAPError) in
            try h.rootDSE(attributes: ["namingContexts"]).strings("namingContexts")
        }
        let base = NamingContext.holding(config.baseDN, among: contexts) ?? config.baseDN
        resolvedBase.withLock { $0 = base }
        return base
    }

    /// Whether the service account sees `group` and its `member` values (a base search with
    /// `(member=*)`: slapd answers noSuchObject for an entry it hides, and no entry when the
    /// attribute may not be searched). Cached for the TTL.
    func isReadable(_ group: String) async throws(LDAPError) -> Bool {
        let key = DirectoryUser.normalize(dn: group)
        if let known = readable.value(for: key) { return known }
        let visible: Bool
        do {
            visible = try await pool.withHandle { h throws(LDAPError) -> Bool in
                try !h.search(base: group, scope: .base, filter: "(member=*)", attributes: ["1.1"]).entries.isEmpty
            }
        } catch {
            guard error.code == LDAPCode.noSuchObject || error.code == LDAPCode.invalidDNSyntax else { throw error }
            visible = false
        }
        readable.store(visible, for: key)
        return visible
    }

    func clearCaches() {
        readable.removeAll()
        resolvedBase.withLock { $0 = nil }
    }

    /// DNs of the groups under `base` that have any of `members` as a `member`. A base that
    /// does not exist holds no group (doctor reports a wrong `group_base_dn`); it must not turn
    /// the user's lookup into "no such user".
    private func groupsContaining(_ members: [String], base: String) async throws(LDAPError) -> [String] {
        var out: [String] = []
        var i = 0
        while i < members.count {
            let slice = members[i..<min(i + chunk, members.count)]
            let filter = "(|" + slice.map { LDAPFilter.equality("member", $0) }.joined() + ")"
            let dns = try await pool.withHandle { h throws(LDAPError) -> [String] in
                do throws(LDAPError) {
                    return try h.search(base: base, scope: .subtree, filter: filter, attributes: ["1.1"]).entries.map(\.dn)
                } catch {
                    if error.code == LDAPCode.noSuchObject { return [] }
                    throw error
                }
            }
            out += dns
            i += chunk
        }
        return out
    }
}
