import Crypto
import Foundation

/// The salted SHA password schemes OpenLDAP stores in `userPassword` and `pwdHistory`
/// (`{SSHA}`, `{SSHA256}`, `{SSHA512}`, and their unsalted `{SHA…}` forms).
///
/// It exists because the daemon must decide two things from a stored hash without a bind: on
/// readback, whether the directory already holds the new password (an LDAP Compare of a clear
/// value against a hash answers FALSE), and for history, whether a new password is one of the
/// hashes in OpenLDAP's `pwdHistory` (ppolicy lets a password administrator skip history).
/// Comparisons run in constant time for a given digest length. Schemes it does not know
/// (`{CRYPT}`, `{ARGON2}`, …) never match: the caller treats them as "cannot tell".
public enum LDAPPasswordHash {
    /// A scheme this type can verify.
    public enum Scheme: String, Sendable, CaseIterable {
        case sha = "SHA", ssha = "SSHA", sha256 = "SHA256", ssha256 = "SSHA256", sha512 = "SHA512", ssha512 = "SSHA512"

        /// Length of the digest before the salt.
        var digestLength: Int {
            switch self {
            case .sha, .ssha: 20
            case .sha256, .ssha256: 32
            case .sha512, .ssha512: 64
            }
        }

        var salted: Bool { self == .ssha || self == .ssha256 || self == .ssha512 }
    }

    /// Splits `{SCHEME}base64` into a known scheme and the decoded bytes, or nil.
    public static func parse(_ stored: String) -> (scheme: Scheme, bytes: [UInt8])? {
        guard stored.hasPrefix("{"), let close = stored.firstIndex(of: "}") else { return nil }
        let name = stored[stored.index(after: stored.startIndex)..<close].uppercased()
        guard let scheme = Scheme(rawValue: name),
              let data = Data(base64Encoded: String(stored[stored.index(after: close)...]).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let bytes = [UInt8](data)
        if scheme.salted ? bytes.count <= scheme.digestLength : bytes.count != scheme.digestLength { return nil }
        return (scheme, bytes)
    }

    /// Whether `stored` (a `userPassword` value such as `{SSHA}…`) is a hash of `password`.
    /// False for unknown schemes and malformed values.
    public static func matches(password: Secret, stored: String) -> Bool {
        guard let (scheme, bytes) = parse(stored) else { return false }
        let expected = bytes[0..<scheme.digestLength]
        let salt = bytes[scheme.digestLength...]
        let actual: [UInt8] = password.withBytes { pw in
            switch scheme {
            case .sha, .ssha: digest(Insecure.SHA1(), pw, salt)
            case .sha256, .ssha256: digest(SHA256(), pw, salt)
            case .sha512, .ssha512: digest(SHA512(), pw, salt)
            }
        }
        return constantTimeEquals(actual, expected)
    }

    /// `{SSHA…}` of `password` with `salt`: what slapd would store. For tests and fixtures.
    public static func hash(password: Secret, salt: [UInt8], scheme: Scheme = .ssha) -> String {
        let bytes: [UInt8] = password.withBytes { pw in
            switch scheme {
            case .sha, .ssha: digest(Insecure.SHA1(), pw, scheme.salted ? salt[...] : [])
            case .sha256, .ssha256: digest(SHA256(), pw, scheme.salted ? salt[...] : [])
            case .sha512, .ssha512: digest(SHA512(), pw, scheme.salted ? salt[...] : [])
            }
        }
        return "{\(scheme.rawValue)}" + Data(bytes + (scheme.salted ? salt : [])).base64EncodedString()
    }

    private static func digest<H: HashFunction>(_ hasher: H, _ password: UnsafeBufferPointer<UInt8>, _ salt: ArraySlice<UInt8>) -> [UInt8] {
        var h = hasher
        h.update(bufferPointer: UnsafeRawBufferPointer(password))
        salt.withUnsafeBytes { h.update(bufferPointer: $0) }
        return Array(h.finalize())
    }

    /// Equal-length comparison whose time does not depend on where the bytes differ.
    public static func constantTimeEquals<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }
}

/// One OpenLDAP `pwdHistory` value, `time#syntaxOID#length#value`
/// (e.g. `20250101120000Z#1.3.6.1.4.1.1466.115.121.1.40#38#{SSHA}…`), as ppolicy stores it.
public struct PasswordHistoryEntry: Sendable, Hashable {
    /// Generalized time when the password was replaced.
    public var time: String
    public var syntaxOID: String
    /// Length in bytes of `value` as ppolicy recorded it.
    public var length: Int
    /// The old `userPassword` value, normally `{SCHEME}hash`.
    public var value: String

    /// Parses one attribute value; nil when it does not have four `#`-separated parts.
    /// The value itself may contain `#`: only the first three separate fields.
    public init?(_ raw: String) {
        let parts = raw.split(separator: "#", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, let length = Int(parts[2]) else { return nil }
        time = String(parts[0]); syntaxOID = String(parts[1]); self.length = length; value = String(parts[3])
    }

    /// Whether any of `history` (raw `pwdHistory` values) is a hash of `password`.
    public static func contains(_ password: Secret, in history: [String]) -> Bool {
        var found = false
        // Check every entry, so the time does not tell which one matched.
        for raw in history {
            if let entry = PasswordHistoryEntry(raw), LDAPPasswordHash.matches(password: password, stored: entry.value) { found = true }
        }
        return found
    }
}
