import Foundation
import Logging
import WritebackCore

/// Active Directory (and Samba AD) behind `PasswordDirectory`: finds a user and reads the facts
/// the policy needs, writes resets, unlocks, must-change flags and user changes the way AD
/// expects them (DESIGN.md, "Rules of the trade"), and reads back writes whose outcome is
/// unknown. It exists so that every AD convention — `unicodePwd`, `pwdLastSet`, `lockoutTime`,
/// the in-chain matching rule, the policy-hints control, `0000052D` — lives in one place.
/// All LDAP traffic goes through the pool, on the connections' own threads.
public final class ActiveDirectoryFlavor: DirectoryFlavorOperations {
    let config: DirectoryConfig
    let pool: LDAPPool
    let logger: Logger
    /// The policy-hints control to send with resets, decided once from the RootDSE
    /// (`.some(nil)`: the DC does not list it, send nothing).
    let hints = Locked<LDAPControl??>(nil)
    /// Each user's resultant PSO DN, and each PSO's (and, under "", the domain's) rules
    /// (ActiveDirectoryFlavor+Policy.swift).
    let userPSOs = ExpiringCache<String, String?>(ttl: policyCacheTTL)
    let policiesByDN = ExpiringCache<String, DirectoryPasswordPolicy?>(ttl: policyCacheTTL)

    public init(config: DirectoryConfig, pool: LDAPPool, logger: Logger) {
        self.config = config
        self.pool = pool
        self.logger = logger
    }

    /// The attribute that holds alternate mail addresses.
    var alternateMailAttribute: String { config.alternateMailAttribute ?? "otherMailbox" }

    static let computedFlags = "msDS-User-Account-Control-Computed"

    var userAttributes: [String] {
        ["sAMAccountName", "displayName", "mail", alternateMailAttribute, "userAccountControl",
         Self.computedFlags, "adminCount", "pwdLastSet", "lockoutTime"]
    }

    // MARK: lookup

    public func findUser(identity: String, groupsOfInterest: [String]) async throws(DirectoryError) -> DirectoryUser {
        // No account name or address holds a control character; Samba compares a value cut at
        // an escaped NUL (`paul\00x` matches `paul`), so such identities never reach a filter.
        guard !identity.isEmpty, !identity.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .notFound
        }
        let filter = LDAPFilter.identity(userFilter: config.userFilter, attributes: config.identityAttributes, identity: identity)
        let base = config.baseDN, attributes = userAttributes
        let found: (count: Int, entry: LDAPEntry?, groups: (member: [String], undecided: [String]))
        do {
            found = try await pool.withHandle { h throws(LDAPError) in
                let r = try h.search(base: base, scope: .subtree, filter: filter, attributes: attributes, sizeLimit: 2)
                guard r.entries.count == 1, !r.sizeLimitHit, var entry = r.entries.first else {
                    return (r.sizeLimitHit ? max(2, r.entries.count) : r.entries.count, nil, ([], []))
                }
                if entry.values(Self.computedFlags).isEmpty {
                    // Some DCs compute this attribute only for base-scope reads.
                    let again = try h.search(base: entry.dn, scope: .base, filter: "(objectClass=*)", attributes: [Self.computedFlags])
                    entry.attributes[Self.computedFlags] = again.entries.first?.values(Self.computedFlags) ?? []
                }
                return (1, entry, try Self.memberships(of: entry.dn, in: groupsOfInterest, handle: h))
            }
        } catch {
            throw ActiveDirectoryErrors.map(error, context: .read)
        }
        guard let entry = found.entry else {
            if found.count == 0 { throw .notFound }
            throw .ambiguous(count: found.count)
        }
        var user = user(from: entry, memberOf: found.groups.member)
        user.undecidedGroups = Set(found.groups.undecided.map(DirectoryUser.normalize(dn:)))
        return user
    }

    /// The groups of `groups` that `userDN` belongs to, nested membership included: one
    /// base-scope search per group with the in-chain rule. A group the service account cannot
    /// see (it does not exist, or is hidden from it) is undecided: the policy fails closed on it.
    static func memberships(of userDN: String, in groups: [String], handle h: LDAPHandle) throws(LDAPError) -> (member: [String], undecided: [String]) {
        var member: [String] = []
        var undecided: [String] = []
        let filter = ActiveDirectoryEncoding.inChainMemberFilter(userDN: userDN)
        for group in groups {
            do {
                if try !h.search(base: group, scope: .base, filter: filter, attributes: ["1.1"]).entries.isEmpty {
                    member.append(group)
                }
            } catch {
                if error.code == LDAPCode.noSuchObject || error.code == LDAPCode.invalidDNSyntax { undecided.append(group); continue }
                throw error
            }
        }
        return (member, undecided)
    }

    func user(from entry: LDAPEntry, memberOf groups: [String]) -> DirectoryUser {
        let uac = entry.string("userAccountControl").flatMap { Int64($0) } ?? 0
        let computed = entry.string(Self.computedFlags).flatMap { Int64($0) } ?? 0
        let stamp = entry.string("pwdLastSet")
        return DirectoryUser(
            dn: entry.dn,
            accountName: entry.string("sAMAccountName") ?? "",
            displayName: entry.string("displayName"),
            mail: entry.strings("mail"),
            alternateMail: entry.strings(alternateMailAttribute),
            disabled: uac & ActiveDirectoryEncoding.accountDisabled != 0,
            locked: computed & ActiveDirectoryEncoding.lockout != 0,
            adminCount: entry.string("adminCount") == "1",
            memberOf: Set(groups.map { DirectoryUser.normalize(dn: $0) }),
            passwordStamp: stamp,
            passwordChangedAt: stamp.flatMap(ActiveDirectoryEncoding.date(fromFiletime:))
        )
    }

    func clearCaches() {
        userPSOs.removeAll()
        policiesByDN.removeAll()
    }

    // MARK: readback

    /// Decides a write whose outcome is unknown. A password write changes `pwdLastSet` (to the
    /// DC's "now", or to 0 for must-change): a value different from the stamp recorded before
    /// the write means it was applied. Compares values only, never clocks. An unlock
    /// (`newPassword == nil`) was applied when the account is not locked now.
    /// Undecidable cases (no stamp, or a must-change reset of an account whose stamp was
    /// already 0) answer `.notApplied`: writing the same reset again is harmless.
    public func readBack(user: DirectoryUser, intentStamp: String?, newPassword: Secret?) async throws(DirectoryError) -> ReadbackVerdict {
        let dn = user.dn
        let entry: LDAPEntry?
        do {
            entry = try await pool.withHandle { h throws(LDAPError) in
                try h.search(base: dn, scope: .base, filter: "(objectClass=*)",
                             attributes: ["pwdLastSet", Self.computedFlags]).entries.first
            }
        } catch {
            throw ActiveDirectoryErrors.map(error, context: .read)
        }
        guard let entry else { throw .notFound }
        if newPassword == nil {
            let computed = entry.string(Self.computedFlags).flatMap { Int64($0) } ?? 0
            return computed & ActiveDirectoryEncoding.lockout == 0 ? .applied : .notApplied
        }
        guard let intentStamp, let now = entry.string("pwdLastSet") else { return .notApplied }
        return now != intentStamp ? .applied : .notApplied
    }
}
