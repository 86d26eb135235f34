import Foundation
import Logging
import WritebackCore

/// The user's effective password policy on OpenLDAP: the ppolicy entry named by the user's
/// `pwdPolicySubentry` (read with the user), else the overlay's default policy. The default is
/// not on the user: it is `olcPPolicyDefault` in cn=config, which the daemon reads when the
/// service account may (grant it read on that attribute); otherwise, when the naming context
/// holds exactly one `pwdPolicy` entry, that one. Policy entries and the default's DN are
/// cached for a few minutes (`policyCacheTTL`); SIGHUP clears them. The ppolicy response
/// control still names most refusals; this lets the daemon refuse first, and describe.
extension OpenLDAPFlavor {
    func effectivePolicy(for user: DirectoryUser) async throws(DirectoryError) -> DirectoryPasswordPolicy? {
        var policyDN = user.passwordPolicyDN
        if policyDN == nil { policyDN = try await defaultPolicyDN() }
        guard let policyDN else { return nil }
        let key = DirectoryUser.normalize(dn: policyDN)
        if let cached = policies.value(for: key) { return cached }
        let found: LDAPEntry?
        do {
            found = try await pool.withHandle { h throws(LDAPError) -> LDAPEntry? in
                do throws(LDAPError) {
                    return try h.search(base: policyDN, scope: .base, filter: "(objectClass=*)", attributes: DirectoryPolicyParsing.ppolicyAttributes).entries.first
                } catch {
                    if error.code == LDAPCode.noSuchObject || error.code == LDAPCode.insufficientAccess { return nil }
                    throw error
                }
            }
        } catch {
            throw Self.map(error, write: false)
        }
        let policy = found.flatMap { DirectoryPolicyParsing.ppolicy(dn: policyDN, $0) }
        if policy == nil { logger.warning("the password policy entry cannot be read; deciding with [policy] only", metadata: ["policy": "\(policyDN)"]) }
        policies.store(policy, for: key)
        return policy
    }

    /// The ppolicy default's DN (cached under the key ""), nil when it cannot be known.
    func defaultPolicyDN() async throws(DirectoryError) -> String? {
        if let cached = defaultPolicy.value(for: "") { return cached }
        let base = config.baseDN
        let found: String?
        do {
            found = try await pool.withHandle { h throws(LDAPError) -> String? in
                let root = try h.rootDSE(attributes: ["namingContexts", "configContext"])
                let context = NamingContext.holding(base, among: root.strings("namingContexts")) ?? base
                // 1. olcPPolicyDefault of the overlay whose default lies in our naming context.
                if let configContext = root.string("configContext") {
                    do throws(LDAPError) {
                        let values = try h.search(base: configContext, scope: .subtree, filter: "(olcPPolicyDefault=*)",
                                                  attributes: ["olcPPolicyDefault"]).entries.flatMap { $0.strings("olcPPolicyDefault") }
                        if let mine = values.first(where: { NamingContext.holding($0, among: [context]) != nil }) { return mine }
                    } catch {
                        guard error.code == LDAPCode.noSuchObject || error.code == LDAPCode.insufficientAccess else { throw error }
                    }
                }
                // 2. The only policy entry there is.
                do throws(LDAPError) {
                    let r = try h.search(base: context, scope: .subtree, filter: "(objectClass=pwdPolicy)", attributes: ["1.1"], sizeLimit: 2)
                    return r.entries.count == 1 && !r.sizeLimitHit ? r.entries[0].dn : nil
                } catch {
                    guard error.code == LDAPCode.noSuchObject || error.code == LDAPCode.insufficientAccess else { throw error }
                    return nil
                }
            }
        } catch {
            throw Self.map(error, write: false)
        }
        if found == nil {
            logger.notice("the ppolicy default policy is not known (grant the service account read on olcPPolicyDefault in cn=config); users without pwdPolicySubentry are decided with [policy] only")
        }
        defaultPolicy.store(found, for: "")
        return found
    }
}
