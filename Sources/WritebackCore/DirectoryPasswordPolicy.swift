import Foundation

/// The password rules the directory itself applies to one user, as read from the directory:
/// Active Directory's resultant fine-grained policy (`msDS-ResultantPSO`) or the domain's,
/// OpenLDAP's ppolicy entry (`pwdPolicySubentry` or the default policy). It exists so that
/// the daemon decides with the stricter of it and `[policy]` before writing, and can name the
/// rule behind AD's `0000052D` from the policy that produced it.
public struct DirectoryPasswordPolicy: Sendable, Hashable {
    /// Where the rules came from.
    public enum Source: Sendable, Hashable {
        /// An AD Password Settings Object (fine-grained policy), by DN.
        case pso(String)
        /// The AD domain head's policy (`minPwdLength`, `pwdProperties`, …).
        case domain
        /// An OpenLDAP ppolicy entry, by DN (the user's `pwdPolicySubentry` or the default).
        case ppolicy(String)

        /// `pso:<dn>`, `domain`, `ppolicy:<dn>` (as `check-password --json` prints it).
        public var name: String {
            switch self {
            case .pso(let dn): "pso:\(dn)"
            case .domain: "domain"
            case .ppolicy(let dn): "ppolicy:\(dn)"
            }
        }
    }

    public var source: Source
    /// Minimum length in characters the directory enforces; 0: none.
    public var minLength: Int
    /// AD complexity (3 of 5 classes, no account name); OpenLDAP: never (a quality module's
    /// refusal is named by the ppolicy control).
    public var complexity: Bool
    /// Passwords remembered by the directory; 0: none.
    public var historyLength: Int
    /// Minimum age of the current password before it may be changed; 0: none.
    public var minAge: TimeInterval
    /// Whether the directory applies `minAge` to the service account's resets too (OpenLDAP
    /// ppolicy, for an account without `manage`), or only to the user's own change (AD).
    public var minAgeOnReset: Bool
    /// Whether the directory applies its history to the service account's resets (OpenLDAP
    /// ppolicy; AD only with the policy-hints control), or only to the user's own change.
    public var historyOnReset: Bool

    public init(source: Source, minLength: Int, complexity: Bool, historyLength: Int, minAge: TimeInterval,
                minAgeOnReset: Bool, historyOnReset: Bool) {
        self.source = source; self.minLength = minLength; self.complexity = complexity
        self.historyLength = historyLength; self.minAge = minAge
        self.minAgeOnReset = minAgeOnReset; self.historyOnReset = historyOnReset
    }
}
