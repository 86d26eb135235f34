import Foundation
import Logging
import WritebackCore

/// The writes: reset, unlock, must-change and the user's own change.
extension ActiveDirectoryFlavor {
    /// Applies `write` to `user`:
    /// - reset: one modify — replace `unicodePwd` (UTF-16LE of the quoted password), then
    ///   `lockoutTime` = 0 when unlocking, then `pwdLastSet` = 0 (must change) or -1 (now);
    ///   with the policy-hints control when the RootDSE lists it.
    /// - unlock: `lockoutTime` = 0 (succeeds on an account that is not locked).
    /// - change: delete old + add new `unicodePwd`, on a connection bound as the user.
    public func apply(_ write: PasswordWrite, to user: DirectoryUser) async throws(DirectoryError) {
        switch write.kind {
        case .unlock:
            try await modify(user.dn, [LDAPModification(.replace, "lockoutTime", [.string("0")])], controls: [])
        case .reset:
            guard let password = write.newPassword else { throw .other(code: LDAPCode.localError, message: "reset without a new password") }
            let value = try Self.unicodePwd(password)
            var mods = [LDAPModification(.replace, "unicodePwd", [.secret(value)])]
            if write.unlock { mods.append(LDAPModification(.replace, "lockoutTime", [.string("0")])) }
            let pwdLastSet = write.mustChange ? ActiveDirectoryEncoding.pwdLastSetMustChange : ActiveDirectoryEncoding.pwdLastSetNow
            mods.append(LDAPModification(.replace, "pwdLastSet", [.string(pwdLastSet)]))
            try await modify(user.dn, mods, controls: try await policyHintsControls())
        case .change:
            guard let old = write.oldPassword, let new = write.newPassword else {
                throw .other(code: LDAPCode.localError, message: "change without old and new password")
            }
            try await change(dn: user.dn, old: old, new: new)
        }
    }

    /// A change as the user: the DC checks the old password itself (and its history and age
    /// rules, which apply to changes). A user who must change at next logon (or whose
    /// password expired) cannot bind — `data 773` / `532` prove the old password right — so
    /// that change goes over the service connection, whose Change Password right lets the DC
    /// verify the old password in the modify itself.
    func change(dn: String, old: Secret, new: Secret) async throws(DirectoryError) {
        let mods = [LDAPModification(.delete, "unicodePwd", [.secret(try Self.unicodePwd(old))]),
                    LDAPModification(.add, "unicodePwd", [.secret(try Self.unicodePwd(new))])]
        do {
            try await pool.withHandle(boundAs: .simple(dn: dn, password: old)) { h throws(LDAPError) in
                _ = try h.modify(dn: dn, mods)
            }
        } catch {
            if error.phase == .bind, error.code == LDAPCode.invalidCredentials,
               let data = ActiveDirectoryErrors.bindData(error.message), data == .mustChange || data == .expired {
                logger.debug("user must change the password; changing over the service connection", metadata: ["dn": "\(dn)"])
                try await modify(dn, mods, controls: [], context: .change)
                return
            }
            throw ActiveDirectoryErrors.map(error, context: error.phase == .bind ? .userBind : .change)
        }
    }

    func modify(_ dn: String, _ mods: [LDAPModification], controls: [LDAPControl],
                context: ActiveDirectoryErrors.Context = .write) async throws(DirectoryError) {
        do {
            try await pool.withHandle(idempotent: false) { h throws(LDAPError) in
                _ = try h.modify(dn: dn, mods, controls: controls)
            }
        } catch {
            throw ActiveDirectoryErrors.map(error, context: context)
        }
    }

    /// The policy-hints control when the DC lists it in `supportedControl` (critical then:
    /// the DC promised to honour it), the deprecated OID when only that is listed, nothing
    /// otherwise — an unlisted control is never sent as critical (Samba 4.17 refuses it).
    func policyHintsControls() async throws(DirectoryError) -> [LDAPControl] {
        if let decided = hints.withLock({ $0 }) { return decided.map { [$0] } ?? [] }
        let supported: [String]
        do {
            supported = try await pool.withHandle { h throws(LDAPError) in
                try h.rootDSE(attributes: ["supportedControl"]).strings("supportedControl")
            }
        } catch {
            throw ActiveDirectoryErrors.map(error, context: .read)
        }
        let oid = [ActiveDirectoryEncoding.policyHintsOID, ActiveDirectoryEncoding.policyHintsDeprecatedOID]
            .first { supported.contains($0) }
        let control = oid.map { LDAPControl(oid: $0, critical: true, value: ActiveDirectoryEncoding.policyHintsValue) }
        hints.withLock { $0 = .some(control) }
        logger.info("policy hints on resets", metadata: ["control": "\(oid ?? "not supported by the DC: the daemon keeps history itself")"])
        return control.map { [$0] } ?? []
    }

    static func unicodePwd(_ password: Secret) throws(DirectoryError) -> Secret {
        guard let value = ActiveDirectoryEncoding.unicodePwd(password) else {
            throw .passwordRejected(.directoryRule, "the password is not valid UTF-8")
        }
        return value
    }
}
