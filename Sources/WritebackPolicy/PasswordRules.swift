import WritebackCore

/// The character-level rules Active Directory applies ("Password must meet complexity
/// requirements"), so a password the domain would refuse is refused here first, with the
/// rule's own name instead of AD's generic `0000052D`.
///
/// Decisions, documented once:
/// - **Length** counts Unicode scalars. AD counts UTF-16 code units, which is the same number
///   for every character of the Basic Multilingual Plane; it differs only for characters
///   outside it (emoji, rare CJK), which AD counts twice. A combining mark counts on its own,
///   as in AD (`e` + U+0301 is two). No normalisation (NFC/NFKC) is applied: the directory
///   stores exactly the code points it is sent.
/// - **Complexity** is 3 of 5 classes: upper case (Unicode `Lu`, `Lt`), lower case (`Ll`),
///   decimal digits (Unicode `Nd`: `0–9`, and also full-width `０–９` and other scripts'
///   digits, which Windows classifies as C1_DIGIT too), symbols (ASCII punctuation — AD's
///   list — plus other Unicode punctuation and symbols, but not currency signs, which AD
///   explicitly excludes), and other letters (`Lo`, `Lm`: CJK, Arabic, Hebrew, …, letters
///   that are neither upper nor lower case). Whitespace, control characters (NUL included)
///   and combining marks count in no class.
/// - **contains_user_name**: the account name when it has ≥ 3 characters, and each token of
///   the display name split on `,` `.` `-` `_` space `#` tab with ≥ 3 characters, each found
///   case-insensitively (Unicode simple lower case) as a substring of the password.
public enum PasswordRules {
    /// The complexity classes, as a bit set.
    public struct Classes: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let upper = Classes(rawValue: 1)
        public static let lower = Classes(rawValue: 2)
        public static let digit = Classes(rawValue: 4)
        public static let symbol = Classes(rawValue: 8)
        public static let otherLetter = Classes(rawValue: 16)

        /// How many classes are present.
        public var count: Int { rawValue.nonzeroBitCount }
    }

    /// The class of one scalar, or `[]` when it belongs to none.
    public static func classify(_ scalar: Unicode.Scalar) -> Classes {
        let v = scalar.value
        if v < 0x80 {
            switch v {
            case 0x41...0x5A: return .upper
            case 0x61...0x7A: return .lower
            case 0x30...0x39: return .digit
            case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return .symbol
            default: return []
            }
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: return .upper
        case .lowercaseLetter: return .lower
        case .decimalNumber: return .digit
        case .otherLetter, .modifierLetter: return .otherLetter
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .modifierSymbol, .otherSymbol:
            return .symbol
        default: return [] // currency, marks, separators, controls, unassigned, other numbers
        }
    }

    /// The classes present in `scalars`.
    public static func classes<S: Sequence>(of scalars: S) -> Classes where S.Element == Unicode.Scalar {
        var found: Classes = []
        for s in scalars {
            found.formUnion(classify(s))
            if found.count == 5 { break }
        }
        return found
    }

    /// The AD rule: at least 3 of the 5 classes.
    public static func meetsComplexity<S: Sequence>(_ scalars: S) -> Bool where S.Element == Unicode.Scalar {
        classes(of: scalars).count >= 3
    }

    /// Characters that separate display-name tokens in AD's check.
    static let displayNameDelimiters: Set<Unicode.Scalar> = [",", ".", "-", "_", " ", "#", "\t"]

    /// The names AD looks for in a password: the account name (≥ 3 characters) and the
    /// display name's tokens (≥ 3 characters each), lower-cased.
    public static func userNameTokens(accountName: String, displayName: String?) -> [[Unicode.Scalar]] {
        var tokens: [[Unicode.Scalar]] = []
        let account = lowered(accountName)
        if account.count >= 3 { tokens.append(account) }
        if let displayName {
            var current: [Unicode.Scalar] = []
            for s in lowered(displayName) {
                if displayNameDelimiters.contains(s) {
                    if current.count >= 3 { tokens.append(current) }
                    current.removeAll(keepingCapacity: true)
                } else {
                    current.append(s)
                }
            }
            if current.count >= 3 { tokens.append(current) }
        }
        return tokens
    }

    /// Whether the password (as scalars) contains the account name or a display-name token.
    public static func containsUserName(_ password: [Unicode.Scalar], accountName: String, displayName: String?) -> Bool {
        let tokens = userNameTokens(accountName: accountName, displayName: displayName)
        guard !tokens.isEmpty else { return false }
        let lower = lowered(password)
        return tokens.contains { contains(lower, $0) }
    }

    /// Simple (scalar-to-scalars) lower case, so lengths and positions stay comparable.
    static func lowered<S: Sequence>(_ scalars: S) -> [Unicode.Scalar] where S.Element == Unicode.Scalar {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.underestimatedCount)
        for s in scalars {
            if s.value < 0x80 {
                out.append((0x41...0x5A).contains(s.value) ? Unicode.Scalar(s.value + 0x20)! : s)
            } else if s.properties.changesWhenLowercased {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(s)
            }
        }
        return out
    }

    static func lowered(_ string: String) -> [Unicode.Scalar] { lowered(string.unicodeScalars) }

    /// Naive substring search; passwords and names are short.
    static func contains(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
        let first = needle[0]
        outer: for i in 0...(haystack.count - needle.count) where haystack[i] == first {
            for j in 1..<needle.count where haystack[i + j] != needle[j] { continue outer }
            return true
        }
        return false
    }
}
