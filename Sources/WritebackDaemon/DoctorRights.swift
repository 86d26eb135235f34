import Foundation
import LDAPDirectory
import WritebackCore

/// Whether the service account may do its job, proven without changing anything:
/// it can find a user and read what the daemon reads, and it may write the password and lock
/// attributes. OpenLDAP has no effective-rights query, so each write right is probed with a
/// modify that deletes a value nobody has (`delete: userPassword` of a random hash): slapd checks
/// access first, so the answer is 50 (insufficientAccess) without the right and 16
/// (noSuchAttribute) with it — and nothing changes either way. Active Directory answers
/// `allowedAttributesEffective` on the entry.
enum DoctorRights {
    static func run(pool: LDAPPool, config d: DirectoryConfig) async -> [DoctorCheck] {
        let ad = d.flavor == .activeDirectory
        var read = d.identityAttributes + ["mail"]
        if let alt = d.alternateMailAttribute { read.append(alt) }
        read += ad ? ["userAccountControl", "pwdLastSet", "lockoutTime", "adminCount", "allowedAttributesEffective"]
                   : ["userPassword", "pwdAccountLockedTime", "pwdChangedTime"]
        let filter = d.doctorTestUser.map { LDAPFilter.identity(userFilter: d.userFilter, attributes: d.identityAttributes, identity: $0) } ?? d.userFilter
        let base = d.baseDN, attrs = read
        let entry: LDAPEntry
        do {
            let result = try await pool.withHandle { h throws(LDAPError) in
                try h.search(base: base, scope: .subtree, filter: filter, attributes: attrs, sizeLimit: d.doctorTestUser == nil ? 1 : 2)
            }
            guard let first = result.entries.first else {
                let what = d.doctorTestUser.map { "no user \"\($0)\"" } ?? "no user"
                return [.fail("directory rights read", "\(what) matches \(filter) under \(base)",
                              fix: "check base_dn, user_filter and doctor_test_user, and that \(DoctorDirectory.identity(d)) may read the user entries")]
            }
            if d.doctorTestUser != nil, result.entries.count > 1 {
                return [.fail("directory rights read", "doctor_test_user matches \(result.entries.count) entries", fix: "name a user that matches exactly one entry")]
            }
            entry = first
        } catch {
            return [.fail("directory rights read", "search under \(base) failed: \(error.message) (\(error.code))",
                          fix: "give \(DoctorDirectory.identity(d)) read access to the user entries under base_dn")]
        }

        var out: [DoctorCheck] = []
        let identityFound = d.identityAttributes.filter { !entry.values($0).isEmpty }
        let essential = ad ? ["userAccountControl", "pwdLastSet"] : ["userPassword"]
        let unreadable = essential.filter { entry.values($0).isEmpty }
        if identityFound.isEmpty || !unreadable.isEmpty {
            let missing = (identityFound.isEmpty ? d.identityAttributes : []) + unreadable
            out.append(.fail("directory rights read", "\(entry.dn): cannot read \(missing.joined(separator: ", "))",
                             fix: ad ? "grant the service account Read on user objects (identity attributes, userAccountControl, pwdLastSet)"
                                     : "grant the service account read on the identity attributes and write (which includes read) on userPassword: the daemon reads the hash back after a timed-out write"))
        } else {
            out.append(.pass("directory rights read", "\(entry.dn): reads \((identityFound + essential).joined(separator: ", "))"))
        }
        out.append(ad ? activeDirectoryWrite(entry) : await openLDAPWrite(pool: pool, dn: entry.dn, locked: !entry.values("pwdAccountLockedTime").isEmpty))
        return out
    }

    static func activeDirectoryWrite(_ entry: LDAPEntry) -> DoctorCheck {
        let allowed = Set(entry.strings("allowedAttributesEffective").map { $0.lowercased() })
        let needed = ["lockoutTime", "pwdLastSet"]
        let missing = needed.filter { !allowed.contains($0.lowercased()) }
        if missing.isEmpty {
            return .pass("directory rights write", "\(entry.dn): may write \(needed.joined(separator: ", ")) (allowedAttributesEffective); the Reset Password right is exercised only by a real reset")
        }
        return .fail("directory rights write", "\(entry.dn): may not write \(missing.joined(separator: ", "))",
                     fix: "delegate to the service account on the users' OU: Reset password, Write lockoutTime, Write pwdLastSet")
    }

    static func openLDAPWrite(pool: LDAPPool, dn: String, locked: Bool) async -> DoctorCheck {
        // value-specific deletes of values that cannot be present
        let probes: [(String, String)] = [
            ("userPassword", "{SSHA}writebackd-doctor-probe-\(UUID().uuidString)"),
            ("pwdAccountLockedTime", "19700101000001Z"),
            ("pwdReset", "FALSE"),
        ]
        var denied: [String] = [], errors: [String] = []
        for (attribute, value) in probes {
            do {
                _ = try await pool.withHandle(idempotent: false) { h throws(LDAPError) in
                    try h.modify(dn: dn, [LDAPModification(.delete, attribute, [.string(value)])])
                }
                errors.append("\(attribute): the probe modify succeeded")
            } catch {
                switch error.code {
                case LDAPCode.noSuchAttribute: continue
                case LDAPCode.insufficientAccess: denied.append(attribute)
                default: errors.append("\(attribute): \(error.message) (\(error.code))")
                }
            }
        }
        if !denied.isEmpty {
            return .fail("directory rights write", "\(dn): no write access to \(denied.joined(separator: ", "))",
                         fix: "slapd ACL: `access to attrs=userPassword,pwdAccountLockedTime,pwdReset by dn.exact=\"<service DN>\" write` (write, not manage: manage bypasses ppolicy)")
        }
        if !errors.isEmpty {
            return .fail("directory rights write", "\(dn): \(errors.joined(separator: "; "))", fix: "check the ppolicy overlay and the service account's ACLs")
        }
        return .pass("directory rights write", "\(dn): may write userPassword, pwdAccountLockedTime, pwdReset (probed with no-op modifies)\(locked ? "; this user is locked" : "")")
    }
}
