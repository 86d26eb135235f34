import Foundation
import WritebackCore

/// The byte- and number-level conventions of Active Directory that writeback depends on, kept
/// pure (no I/O) so each can be tested on its own: the `unicodePwd` value, FILETIME times,
/// the `userAccountControl` bits, the policy-hints control and the in-chain membership filter.
public enum ActiveDirectoryEncoding {
    /// LDAP_SERVER_POLICY_HINTS_OID: apply history/length/complexity to an administrative reset.
    public static let policyHintsOID = "1.2.840.113556.1.4.2239"
    /// LDAP_SERVER_POLICY_HINTS_DEPRECATED_OID (Windows Server 2008 R2 era), same value.
    public static let policyHintsDeprecatedOID = "1.2.840.113556.1.4.2066"
    /// The control value: SEQUENCE { Flags INTEGER 1 }.
    public static let policyHintsValue = Data([0x30, 0x03, 0x02, 0x01, 0x01])
    /// LDAP_MATCHING_RULE_IN_CHAIN: transitive `member` matching.
    public static let inChainRule = "1.2.840.113556.1.4.1941"

    /// userAccountControl ACCOUNTDISABLE.
    public static let accountDisabled: Int64 = 0x2
    /// msDS-User-Account-Control-Computed UF_LOCKOUT.
    public static let lockout: Int64 = 0x10

    /// `pwdLastSet` values a write sets: 0 = must change at next logon; -1 = "now" (the DC
    /// stores its current time), i.e. must-change cleared.
    public static let pwdLastSetMustChange = "0"
    public static let pwdLastSetNow = "-1"

    /// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
    static let filetimeEpochOffset: Int64 = 11_644_473_600

    /// A FILETIME (100 ns ticks since 1601, as AD writes `pwdLastSet`) as a date; nil for 0
    /// (never set / must change), negative values and the "never" value Int64.max.
    public static func date(fromFiletime raw: String) -> Date? {
        guard let ticks = Int64(raw.trimmingCharacters(in: .whitespaces)), ticks > 0, ticks != Int64.max else { return nil }
        let seconds = Double(ticks / 10_000_000 - filetimeEpochOffset) + Double(ticks % 10_000_000) / 1e7
        return Date(timeIntervalSince1970: seconds)
    }

    /// The FILETIME for `date` (tests and comparisons).
    public static func filetime(from date: Date) -> Int64 {
        Int64(((date.timeIntervalSince1970 + Double(filetimeEpochOffset)) * 1e7).rounded())
    }

    /// `"password"` in UTF-16LE, as `unicodePwd` wants it, built straight from the secret's UTF-8
    /// bytes without a Swift String; the scratch buffer is zeroed before it is freed.
    /// Returns nil when the bytes are not valid UTF-8.
    public static func unicodePwd(_ password: Secret) -> Secret? {
        // UTF-16 never needs more code units than UTF-8 has bytes; +2 for the quotes.
        let capacity = 2 * (password.count + 2)
        let scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: capacity)
        scratch.initialize(repeating: 0)
        defer {
            for i in scratch.indices { scratch[i] = 0 }
            withExtendedLifetime(scratch) { _ = memset(scratch.baseAddress!, 0, scratch.count) }
            scratch.deallocate()
        }
        var n = 0
        func put(_ unit: UInt16) { scratch[n] = UInt8(unit & 0xFF); scratch[n + 1] = UInt8(unit >> 8); n += 2 }
        put(0x22)
        let failed = password.withBytes { utf8 in
            transcode(utf8.makeIterator(), from: UTF8.self, to: UTF16.self, stoppingOnError: true) { put($0) }
        }
        guard !failed else { return nil }
        put(0x22)
        return Secret(bytes: UnsafeBufferPointer(rebasing: scratch[0..<n]))
    }

    /// Base-scope filter on a group entry that matches when `userDN` is a member, nested or not.
    public static func inChainMemberFilter(userDN: String) -> String {
        "(member:\(inChainRule):=\(LDAPFilter.escape(userDN)))"
    }
}
