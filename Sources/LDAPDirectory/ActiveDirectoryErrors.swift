import Foundation
import WritebackCore

/// Translates what Active Directory (and Samba AD) answers into `DirectoryError`. AD puts the
/// real reason in the diagnostic text: an 8-hex-digit Win32/DS error first (`0000052D:`,
/// `00002098:`), and for binds a `data <hex>` sub-code (`52e` bad password, `775` locked).
/// Exists so that the mapping is one table, tested on its own.
public enum ActiveDirectoryErrors {
    /// Which call failed: the same result code means different things in each.
    public enum Context: Sendable {
        /// Searches and reads as the service account.
        case read
        /// An administrative write (reset, unlock, must-change) as the service account.
        case write
        /// The bind as the user, with the old password, before a change.
        case userBind
        /// The delete-old/add-new modify of a change.
        case change
    }

    /// ERROR_PASSWORD_RESTRICTION: length, complexity, history or age (AD never says which).
    static let passwordRestriction = "0000052D"
    /// ERROR_ACCESS_DENIED and ERROR_DS_INSUFF_ACCESS_RIGHTS.
    static let accessDenied = ["00000005", "00002098"]
    /// ERROR_DS_UNWILLING_TO_PERFORM on a password write over an unencrypted connection.
    static let needsEncryption = "00002077"
    /// ERROR_INVALID_PASSWORD: the old password of a change does not match.
    static let invalidPassword = "00000056"
    /// Bind sub-codes (`data …`): wrong password, locked, must change, expired, disabled.
    public enum BindData: String, Sendable {
        case wrongPassword = "52e", locked = "775", mustChange = "773", expired = "532"
        case disabled = "533", accountExpired = "701", notPermittedNow = "530"
    }

    /// The AD extended error in `message` (`0000052D: …`, also behind libldap's own text,
    /// as in `Constraint violation: 0000052D: …`): the first 8 hex digits followed by `:`
    /// that start a word, upper-cased.
    public static func extendedError(_ message: String) -> String? {
        let bytes = Array(message.utf8)
        func isHex(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b) }
        func isWord(_ b: UInt8) -> Bool { isHex(b) || b == 0x2D || (0x47...0x5A).contains(b) || (0x67...0x7A).contains(b) }
        var i = 0
        while i + 9 <= bytes.count {
            if (i == 0 || !isWord(bytes[i - 1])), bytes[i..<i + 8].allSatisfy(isHex), bytes[i + 8] == 0x3A {
                return String(decoding: bytes[i..<i + 8], as: UTF8.self).uppercased()
            }
            i += 1
        }
        return nil
    }

    /// The `data <hex>` sub-code of a bind failure (`…, data 775, v1db1`).
    public static func bindData(_ message: String) -> BindData? {
        guard let range = message.range(of: "data ") else { return nil }
        let code = message[range.upperBound...].prefix { $0.isHexDigit }
        return BindData(rawValue: code.lowercased())
    }

    public static func map(_ error: LDAPError, context: Context) -> DirectoryError {
        let message = error.message.isEmpty ? "LDAP result \(error.code)" : error.message
        let ext = extendedError(message)
        if context == .userBind, error.phase == .bind, !error.isConnectionLoss, error.code != LDAPCode.timeout {
            switch error.code {
            case LDAPCode.invalidCredentials:
                return .wrongOldPassword(bindData(message) == .locked ? "account locked" : "bind as the user refused")
            default:
                return .other(code: error.code, message: "bind as the user: \(message)")
            }
        }
        if let transport = DirectoryErrorMapping.transport(error, write: context != .read) { return transport }
        if let ext, accessDenied.contains(ext) { return .permission(message) }
        switch (error.code, context) {
        case (LDAPCode.strongAuthRequired, _):
            return .unavailable("the directory requires an encrypted connection: \(message)")
        case (LDAPCode.constraintViolation, .change) where ext == invalidPassword:
            return .wrongOldPassword("old password does not match")
        case (LDAPCode.constraintViolation, _) where ext == passwordRestriction:
            return .passwordRejected(.directoryRule, message)
        case (LDAPCode.insufficientAccess, _):
            return .permission(message)
        case (LDAPCode.unwillingToPerform, _) where ext == needsEncryption:
            return .unavailable("password writes need an encrypted connection (ldaps, StartTLS or SASL sealing): \(message)")
        case (LDAPCode.unavailableCriticalExtension, _):
            return .other(code: error.code, message: "control refused: \(message)")
        default:
            return .other(code: error.code, message: message)
        }
    }
}
