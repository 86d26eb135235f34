import Foundation
import Logging
import WritebackCore

/// The user's effective password policy on Active Directory: the Password Settings Object
/// named by the constructed `msDS-ResultantPSO` (a fine-grained policy on the user or one of
/// their groups), else the domain head's `minPwdLength`, `pwdProperties`, `pwdHistoryLength`,
/// `minPwdAge`. Which PSO a user has is cached per user, each PSO's and the domain's rules
/// per DN, for a few minutes (`policyCacheTTL`); SIGHUP clears them. By default only Domain
/// Admins may read a PSO's attributes: a PSO the service account cannot read leaves the user
/// with `[policy]` alone (logged) — never with the domain's values, which the PSO overrides.
extension ActiveDirectoryFlavor {
    func effectivePolicy(for user: DirectoryUser) async throws(DirectoryError) -> DirectoryPasswordPolicy? {
        let historyOnReset = try await !policyHintsControls().isEmpty
        return try await readPolicy(pso: try await resultantPSO(of: user.dn), historyOnReset: historyOnReset)
    }

    /// The user's `msDS-ResultantPSO` (a base read: it is constructed), cached per user.
    func resultantPSO(of dn: String) async throws(DirectoryError) -> String? {
        let key = DirectoryUser.normalize(dn: dn)
        if let cached = userPSOs.value(for: key) { return cached }
        let pso: String?
        do {
            pso = try await pool.withHandle { h throws(LDAPError) in
                try h.search(base: dn, scope: .base, filter: "(objectClass=*)", attributes: ["msDS-ResultantPSO"]).entries.first?.string("msDS-ResultantPSO")
            }
        } catch {
            throw ActiveDirectoryErrors.map(error, context: .read)
        }
        userPSOs.store(pso, for: key)
        return pso
    }

    /// A PSO's rules (`pso` set) or the domain head's (nil), cached per DN; nil when the
    /// service account may not read them.
    func readPolicy(pso: String?, historyOnReset: Bool) async throws(DirectoryError) -> DirectoryPasswordPolicy? {
        let key = pso.map(DirectoryUser.normalize(dn:)) ?? ""
        if let cached = policiesByDN.value(for: key) { return cached }
        let base = config.baseDN
        let attributes = pso == nil ? DirectoryPolicyParsing.domainAttributes : DirectoryPolicyParsing.psoAttributes
        let entry: LDAPEntry?
        do {
            entry = try await pool.withHandle { h throws(LDAPError) -> LDAPEntry? in
                var target = pso
                if target == nil {
                    let root = try h.rootDSE(attributes: ["namingContexts", "defaultNamingContext"])
                    target = NamingContext.holding(base, among: root.strings("namingContexts")) ?? root.string("defaultNamingContext")
                }
                guard let target else { return nil }
                do throws(LDAPError) {
                    return try h.search(base: target, scope: .base, filter: "(objectClass=*)", attributes: attributes).entries.first
                } catch {
                    if error.code == LDAPCode.noSuchObject || error.code == LDAPCode.insufficientAccess { return nil }
                    throw error
                }
            }
        } catch {
            throw ActiveDirectoryErrors.map(error, context: .read)
        }
        let policy: DirectoryPasswordPolicy?
        if let pso {
            policy = entry.flatMap { DirectoryPolicyParsing.pso(dn: pso, $0, historyOnReset: historyOnReset) }
            if policy == nil {
                logger.warning("the user's fine-grained password policy (PSO) cannot be read by the service account; deciding with [policy] only (grant it read on the Password Settings Container)",
                               metadata: ["pso": "\(pso)"])
            }
        } else {
            policy = entry.flatMap { DirectoryPolicyParsing.domain($0, historyOnReset: historyOnReset) }
            if policy == nil { logger.warning("the domain's password policy cannot be read; deciding with [policy] only") }
        }
        policiesByDN.store(policy, for: key)
        return policy
    }
}
