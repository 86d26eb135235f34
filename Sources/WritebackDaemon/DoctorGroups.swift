import Foundation
import LDAPDirectory
import WritebackCore

/// Whether the groups the policy names (`sspr_groups`, `protected_groups`) can be decided:
/// each exists and the service account may read it, and on OpenLDAP it lies under the group
/// base the nested walk searches (`group_base_dn`, by default the naming context that holds
/// `base_dn`). A group that fails here fails closed at run time (an unreadable protected group
/// protects everyone, an unreadable sspr group admits no one), so doctor says so up front.
enum DoctorGroups {
    static func run(pool: LDAPPool, config: Configuration) async -> [DoctorCheck] {
        let d = config.directory
        let policy = config.policy(for: d)
        var seen = Set<String>()
        let groups = (policy.protectedGroups.map { ($0, "protected_groups") } + policy.ssprGroups.map { ($0, "sspr_groups") })
            .filter { seen.insert(DirectoryUser.normalize(dn: $0.0)).inserted }
        guard !groups.isEmpty else { return [] }
        var out: [DoctorCheck] = []
        var base: String?
        if d.flavor == .openldap {
            let (check, resolved) = await groupBase(pool: pool, config: d)
            out.append(check)
            base = resolved
        }
        for (dn, key) in groups {
            out.append(await check(dn, key: key, base: base, pool: pool, config: d))
        }
        return out
    }

    /// The group base the walk uses, and whether it exists.
    static func groupBase(pool: LDAPPool, config d: DirectoryConfig) async -> (DoctorCheck, String?) {
        let name = "directory group_base_dn"
        let base: String
        if let configured = d.groupBaseDN {
            base = configured
        } else {
            do {
                let contexts = try await pool.withHandle { h throws(LDAPError) in
                    try h.rootDSE(attributes: ["namingContexts"]).strings("namingContexts")
                }
                guard let context = NamingContext.holding(d.baseDN, among: contexts) else {
                    return (.fail(name, "no naming context (\(contexts.joined(separator: "; "))) holds base_dn \(d.baseDN); groups are searched under base_dn",
                                  fix: "set [directory] group_base_dn to the subtree that holds the groups"), d.baseDN)
                }
                base = context
            } catch {
                return (.fail(name, "cannot read the RootDSE's namingContexts: \(error.message) (\(error.code))",
                              fix: "set [directory] group_base_dn to the subtree that holds the groups"), nil)
            }
        }
        let found = (try? await pool.withHandle { h throws(LDAPError) in
            try !h.search(base: base, scope: .base, filter: "(objectClass=*)", attributes: ["1.1"]).entries.isEmpty
        }) ?? false
        guard found else {
            return (.fail(name, "\(base) does not exist or the service account may not read it",
                          fix: "set [directory] group_base_dn to an existing subtree that holds the groups, readable by \(DoctorDirectory.identity(d))"), base)
        }
        let how = d.groupBaseDN == nil ? "the naming context that holds base_dn" : "group_base_dn"
        return (.pass(name, "groups are searched under \(base) (\(how))"), base)
    }

    static func check(_ dn: String, key: String, base: String?, pool: LDAPPool, config d: DirectoryConfig) async -> DoctorCheck {
        let name = "directory group \(dn)"
        let openldap = d.flavor == .openldap
        // OpenLDAP: the walk needs the member values; AD: the in-chain search needs the entry.
        let filter = openldap ? "(member=*)" : "(objectClass=*)"
        let outcome: Result<(readable: Bool, exists: Bool), LDAPError>
        do {
            outcome = .success(try await pool.withHandle { h throws(LDAPError) -> (readable: Bool, exists: Bool) in
                do throws(LDAPError) {
                    if try !h.search(base: dn, scope: .base, filter: filter, attributes: ["1.1"]).entries.isEmpty { return (true, true) }
                    return (false, try !h.search(base: dn, scope: .base, filter: "(objectClass=*)", attributes: ["1.1"]).entries.isEmpty)
                } catch {
                    if error.code == LDAPCode.noSuchObject || error.code == LDAPCode.invalidDNSyntax { return (false, false) }
                    throw error
                }
            })
        } catch {
            outcome = .failure(error)
        }
        let consequence = key == "protected_groups"
            ? "every request is refused protected_account/protected_group_unreadable until it is readable"
            : "no one is admitted through it (not_in_scope/sspr_group_unreadable)"
        switch outcome {
        case .failure(let error):
            return .fail(name, "\(key): search failed: \(error.message) (\(error.code))", fix: "check that the directory answers and \(DoctorDirectory.identity(d)) may read the group")
        case .success((false, false)):
            return .fail(name, "\(key): does not exist, or \(DoctorDirectory.identity(d)) may not read it; \(consequence)",
                         fix: "correct the DN in [policy] \(key), or grant the service account read on the group")
        case .success((false, true)):
            return .fail(name, "\(key): exists, but its member values are not readable (or it has none); \(consequence)",
                         fix: "grant \(DoctorDirectory.identity(d)) read (and search) on the group's member attribute")
        case .success:
            if openldap, let base, NamingContext.holding(dn, among: [base]) == nil {
                return .fail(name, "\(key): readable, but outside the group base \(base): groups nested into it are not found",
                             fix: "set [directory] group_base_dn to a subtree that holds every group (e.g. the naming context)")
            }
            return .pass(name, "\(key): readable\(openldap ? " (member values visible)" : "")")
        }
    }
}
