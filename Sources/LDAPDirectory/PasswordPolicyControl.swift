import Foundation
import WritebackCore

/// The Password Policy for LDAP Directories control (draft-behera-ldap-password-policy), OID
/// 1.3.6.1.4.1.42.2.27.8.5.1. Sent empty with a request, the server (OpenLDAP ppolicy) answers
/// with a response control that names the exact rule a password broke. It exists because the
/// LDAP result alone (19 constraintViolation) does not say which rule.
///
///     PasswordPolicyResponseValue ::= SEQUENCE {
///         warning [0] CHOICE { timeBeforeExpiration [0] INTEGER, graceAuthNsRemaining [1] INTEGER } OPTIONAL,
///         error   [1] ENUMERATED { passwordExpired(0), accountLocked(1), changeAfterReset(2),
///                                  passwordModNotAllowed(3), mustSupplyOldPassword(4),
///                                  insufficientPasswordQuality(5), passwordTooShort(6),
///                                  passwordTooYoung(7), passwordInHistory(8) } OPTIONAL }
public enum PasswordPolicyControl {
    public static let oid = "1.3.6.1.4.1.42.2.27.8.5.1"

    /// The request control (no value, not critical: servers without ppolicy ignore it).
    public static var request: LDAPControl { LDAPControl(oid: oid, critical: false, value: nil) }

    /// The `error` field of a response control value, or nil when absent or malformed.
    public static func error(in value: Data) -> Int? {
        let b = [UInt8](value)
        guard b.first == 0x30, let (seqLen, seqStart) = length(b, at: 1), seqStart + seqLen <= b.count else { return nil }
        var i = seqStart
        let end = seqStart + seqLen
        while i < end {
            let tag = b[i]
            guard let (len, start) = length(b, at: i + 1), start + len <= end else { return nil }
            if tag == 0x81 {
                guard len >= 1, len <= 4 else { return nil }
                var v = 0
                for k in start..<(start + len) { v = (v << 8) | Int(b[k]) }
                return v
            }
            i = start + len
        }
        return nil
    }

    /// The password rule a ppolicy error code names, or nil for codes that are not rules.
    public static func rule(forError code: Int) -> PasswordRule? {
        switch code {
        case 5: .complexity
        case 6: .tooShort
        case 7: .tooYoung
        case 8: .history
        default: nil
        }
    }

    /// A BER length at `i`: (length, index of the first content byte).
    private static func length(_ b: [UInt8], at i: Int) -> (Int, Int)? {
        guard i < b.count else { return nil }
        let first = b[i]
        if first < 0x80 { return (Int(first), i + 1) }
        let n = Int(first & 0x7F)
        guard n >= 1, n <= 3, i + n < b.count else { return nil }
        var len = 0
        for k in 1...n { len = (len << 8) | Int(b[i + k]) }
        return (len, i + 1 + n)
    }
}
