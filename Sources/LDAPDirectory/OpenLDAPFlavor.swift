import Foundation
import Logging
import WritebackCore

/// Password writeback into OpenLDAP with the ppolicy overlay. It exists to turn the
/// engine's requests into the operations OpenLDAP understands and its answers into precise
/// outcomes: resets go through the Password Modify extended operation (the server hashes and
/// applies the policy) with the ppolicy request control, so a refusal names its rule; unlock
/// deletes `pwdAccountLockedTime`; must-change is `pwdReset: TRUE`; an unknown outcome is
/// decided by comparing the stored `userPassword` hash with the new password.
struct OpenLDAPFlavor: DirectoryFlavorOperations {
    let config: DirectoryConfig
    let pool: LDAPPool
    let logger: Logger
    let groups: OpenLDAPGroupWalker
    /// Password policy entries by DN (OpenLDAPFlavor+Policy.swift).
    let policies = ExpiringCache<String, DirectoryPasswordPolicy?>(ttl: policyCacheTTL)
    /// The ppolicy default's DN, under the key "".
    let defaultPolicy = ExpiringCache<String, String?>(ttl: policyCacheTTL)

    init(config: DirectoryConfig, pool: LDAPPool, logger: Logger) {
        self.config = config
        self.pool = pool
        self.logger = logger
        groups = OpenLDAPGroupWalker(config: config, pool: pool)
    }

    private var userAttributes: [String] {
        var a = ["uid", "cn", "displayName", "mail", "pwdAccountLockedTime", "pwdChangedTime", "pwdHistory", "pwdReset", "memberOf", "adminCount",
                 "pwdPolicySubentry"]
        if let alt = config.alternateMailAttribute, !alt.isEmpty { a.append(alt) }
        return a
    }

    func findUser(identity: String, groupsOfInterest: [String]) async throws(DirectoryError) -> DirectoryUser {
        guard !identity.isEmpty, identity.utf8.count <= 1024 else { throw .notFound }
        let filter = LDAPFilter.identity(userFilter: config.userFilter, attributes: config.identityAttributes, identity: identity)
        let base = config.baseDN, attrs = userAttributes
        let entries: [LDAPEntry]
        do {
            entries = try await pool.withHandle { h throws(LDAPError) in
                try h.search(base: base, scope: .subtree, filter: filter, attributes: attrs, sizeLimit: 2).entries
            }
        } catch {
            throw Self.map(error, write: false)
        }
        guard let entry = entries.first else { throw .notFound }
        guard entries.count == 1 else { throw .ambiguous(count: entries.count) }

        var user = DirectoryUser(
            dn: entry.dn,
            accountName: entry.string("uid") ?? identity,
            displayName: entry.string("displayName") ?? entry.string("cn"),
            mail: entry.strings("mail"),
            alternateMail: config.alternateMailAttribute.map { entry.strings($0) } ?? [],
            disabled: false,
            locked: !entry.values("pwdAccountLockedTime").isEmpty,
            adminCount: entry.string("adminCount") == "1",
            passwordStamp: entry.string("pwdChangedTime"),
            passwordChangedAt: entry.string("pwdChangedTime").flatMap(GeneralizedTime.parse),
            passwordHistory: entry.strings("pwdHistory"),
            mustChangeFlagged: entry.string("pwdReset")?.uppercased() == "TRUE")
        user.passwordPolicyDN = entry.string("pwdPolicySubentry")
        if !groupsOfInterest.isEmpty {
            do {
                let found = try await groups.membership(of: entry.dn, directGroups: entry.strings("memberOf"), among: groupsOfInterest)
                user.memberOf = found.member
                user.undecidedGroups = found.undecided
            } catch {
                throw Self.map(error, write: false)
            }
        }
        return user
    }

    func apply(_ write: PasswordWrite, to user: DirectoryUser) async throws(DirectoryError) {
        let dn = user.dn
        // ppolicy clears pwdAccountLockedTime when a password is set: a reset that must not
        // unlock puts the lock back as it was.
        let keepLock = write.kind != .unlock && !write.unlock ? try await lockTime(dn) : nil
        switch write.kind {
        case .reset:
            guard let new = write.newPassword else { throw .other(code: LDAPCode.other, message: "reset without a new password") }
            try await serviceWrite { h throws(LDAPError) in
                try h.passwordModify(dn: dn, oldPassword: nil, newPassword: new, controls: [PasswordPolicyControl.request])
            }
        case .change:
            guard let new = write.newPassword, let old = write.oldPassword else {
                throw .other(code: LDAPCode.other, message: "change without old and new password")
            }
            do {
                _ = try await pool.withHandle(boundAs: .simple(dn: dn, password: old)) { h throws(LDAPError) in
                    try h.passwordModify(dn: nil, oldPassword: old, newPassword: new, controls: [PasswordPolicyControl.request])
                }
            } catch {
                if error.phase == .bind && error.code == LDAPCode.invalidCredentials { throw .wrongOldPassword("the old password does not match") }
                throw Self.map(error, write: error.phase == .operation)
            }
        case .unlock:
            break
        }
        // At most one Modify for the account flags. A replace with no values removes the
        // attribute and is no error when it is absent (RFC 4511). What the lookup showed is not
        // there is not cleared again: a reset of an unlocked user with no pwdReset, the common
        // case, is one write (a lock set since the lookup is cleared by ppolicy with the password).
        var mods: [LDAPModification] = []
        if write.kind == .unlock || (write.unlock && user.locked) {
            mods.append(LDAPModification(.replace, "pwdAccountLockedTime"))
        } else if !write.unlock, let keepLock {
            mods.append(LDAPModification(.replace, "pwdAccountLockedTime", [.string(keepLock)]))
        }
        if write.mustChange {
            mods.append(LDAPModification(.replace, "pwdReset", [.string("TRUE")]))
        } else if write.kind != .unlock, user.mustChangeFlagged != false {
            mods.append(LDAPModification(.replace, "pwdReset"))
        }
        if !mods.isEmpty {
            let flags = mods
            try await serviceWrite { h throws(LDAPError) in try h.modify(dn: dn, flags) }
        }
        logger.debug("openldap write applied", metadata: ["dn": .string(dn), "kind": .string(write.kind.rawValue)])
    }

    func readBack(user: DirectoryUser, intentStamp: String?, newPassword: Secret?) async throws(DirectoryError) -> ReadbackVerdict {
        let dn = user.dn
        let entry: LDAPEntry?
        do {
            entry = try await pool.withHandle { h throws(LDAPError) in
                try h.search(base: dn, scope: .base, filter: "(objectClass=*)", attributes: ["userPassword", "pwdChangedTime"]).entries.first
            }
        } catch {
            throw Self.map(error, write: false)
        }
        guard let entry else { throw .notFound }
        let stored = entry.strings("userPassword")
        if let newPassword {
            if stored.contains(where: { LDAPPasswordHash.matches(password: newPassword, stored: $0) }) { return .applied }
            // A hash we can read that is not the new password: exact answer.
            if stored.contains(where: { LDAPPasswordHash.parse($0) != nil }) { return .notApplied }
        }
        // Unknown scheme (or no password given): the change stamp is the best evidence.
        let stamp = entry.string("pwdChangedTime")
        return stamp != nil && stamp != intentStamp ? .applied : .notApplied
    }

    func clearCaches() {
        groups.clearCaches()
        policies.removeAll()
        defaultPolicy.removeAll()
    }

    /// The entry's current `pwdAccountLockedTime`, nil when not locked.
    private func lockTime(_ dn: String) async throws(DirectoryError) -> String? {
        do {
            return try await pool.withHandle { h throws(LDAPError) in
                try h.search(base: dn, scope: .base, filter: "(objectClass=*)", attributes: ["pwdAccountLockedTime"]).entries.first?.string("pwdAccountLockedTime")
            }
        } catch {
            throw Self.map(error, write: false)
        }
    }

    /// A write as the service account, mapped; `ignoring` is a result code that means
    /// "already so" (16 noSuchAttribute on delete).
    private func serviceWrite(ignoring: Int32? = nil, _ body: @escaping @Sendable (LDAPHandle) throws(LDAPError) -> some Sendable) async throws(DirectoryError) {
        do {
            _ = try await pool.withHandle(idempotent: false, body)
        } catch {
            if let ignoring, error.code == ignoring, error.phase == .operation { return }
            throw Self.map(error, write: true)
        }
    }

    /// OpenLDAP's answers → `DirectoryError`.
    static func map(_ error: LDAPError, write: Bool) -> DirectoryError {
        if let t = DirectoryErrorMapping.transport(error, write: write) { return t }
        if let value = error.control(PasswordPolicyControl.oid)?.value,
           let code = PasswordPolicyControl.error(in: value), let rule = PasswordPolicyControl.rule(forError: code) {
            return .passwordRejected(rule, error.message)
        }
        switch error.code {
        case LDAPCode.constraintViolation: return .passwordRejected(.directoryRule, error.message)
        case LDAPCode.insufficientAccess: return .permission(error.message)
        case LDAPCode.noSuchObject: return .notFound
        // A write that met another write of the same entry: two daemons (each serialises its
        // own requests per user) resetting one user at once, ppolicy appending both to
        // pwdHistory. The operation did not apply (one entry's modify is atomic): try again.
        case LDAPCode.attributeOrValueExists where write:
            return .transient("the entry was changed by another write at the same moment (rc 20: \(error.message))")
        default: return .other(code: error.code, message: error.message)
        }
    }
}

/// LDAP GeneralizedTime (`20261126023919Z`, optionally with fractional seconds).
enum GeneralizedTime {
    static func parse(_ s: String) -> Date? {
        let digits = s.prefix { $0.isNumber }
        guard digits.count >= 14, s.hasSuffix("Z") else { return nil }
        let d = Array(digits.prefix(14)).map { Int(String($0))! }
        func num(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + d[$1] } }
        var c = DateComponents()
        c.year = num(0..<4); c.month = num(4..<6); c.day = num(6..<8)
        c.hour = num(8..<10); c.minute = num(10..<12); c.second = num(12..<14)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        return cal.date(from: c)
    }
}
