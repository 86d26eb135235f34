import Foundation

/// Entra-style banned terms (global + custom list), matched after normalisation with edit
/// distance 1, scored the way Entra Password Protection scores (prior-art.md §2).
///
/// It exists because a length/complexity rule alone lets `Winter2024!` through: the terms
/// organisations ban (their own name, seasons, `password`) are found here even when disguised
/// with the usual substitutions, so the user hears `banned` before the directory is asked.
///
/// Algorithm:
/// 1. Normalise password and terms: lower case, then `0→o 1→l $→s @→a 3→e 5→s 7→t`.
/// 2. Find terms in the password: first every exact occurrence (longest terms first), then
///    every remaining substring within edit distance 1 of a term (same length, one longer,
///    one shorter, in that order). Matches do not overlap; each occurrence counts.
/// 3. Score: 1 per term occurrence found + 1 per character not inside a found term. A password
///    in which at least one term was found and whose score is below 5 is banned. (A password
///    with no term in it is not this rule's business; too short is `too_short`'s.)
///
/// Terms shorter than 4 characters after normalisation are ignored, as Entra's custom list
/// requires 4–16: a 3-letter term within edit distance 1 would match almost anything.
/// A term within edit distance 1 of a part of the password has one of its two halves in the
/// password exactly (the edit can only touch one half), so each term is indexed by a hash of
/// each half; a check hashes the password's substrings of the halves' lengths (a few hundred
/// lookups) and runs the fuzzy match only for terms whose half is really there, which keeps
/// it fast with thousands of terms.
public struct BannedPasswordList: Sendable {
    /// The terms as given (custom list only, not the global one).
    public let terms: [String]
    /// Normalised terms, custom and global, de-duplicated, longest first.
    let normalized: [[Unicode.Scalar]]
    /// Hash of a term half → indices into `normalized`, ascending (so longest first).
    let index: [UInt64: [Int32]]
    /// The longest half of any term.
    let longestHalf: Int
    /// A password longer than this cannot score below 5: at most 4 terms fit, each at most
    /// one character longer than the longest term.
    let longestBannable: Int

    /// Why a banned-terms file could not be used.
    public enum LoadError: Error, Sendable, Hashable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case notUTF8(path: String)
        public var description: String {
            switch self {
            case .unreadable(let p, let r): "banned_passwords_file \(p): cannot read: \(r)"
            case .notUTF8(let p): "banned_passwords_file \(p): not UTF-8 text"
            }
        }
    }

    /// `terms` plus, unless `includeGlobal` is false, the built-in global list.
    public init(terms: [String], includeGlobal: Bool = true) {
        self.terms = terms
        var seen = Set<[Unicode.Scalar]>()
        var list: [[Unicode.Scalar]] = []
        for term in (includeGlobal ? Self.globalTerms : []) + terms {
            let n = Self.normalize(term.trimmingCharacters(in: .whitespacesAndNewlines).unicodeScalars)
            if n.count >= 4, seen.insert(n).inserted { list.append(n) }
        }
        list.sort { $0.count > $1.count }
        var index: [UInt64: [Int32]] = [:]
        for (i, t) in list.enumerated() {
            let a = Self.hash(t[0..<(t.count / 2)]), b = Self.hash(t[(t.count / 2)...])
            index[a, default: []].append(Int32(i))
            if b != a { index[b, default: []].append(Int32(i)) }
        }
        longestHalf = list.first.map { $0.count - $0.count / 2 } ?? 0
        normalized = list
        longestBannable = 4 * ((list.first?.count ?? 0) + 1) + 4
        self.index = index
    }

    /// Reads one term a line (blank lines and lines starting with `#` are skipped).
    public init(contentsOfFile path: String, includeGlobal: Bool = true) throws(LoadError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else { throw .notUTF8(path: path) }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
        self.init(terms: lines, includeGlobal: includeGlobal)
    }

    /// How a password scored.
    public struct Score: Sendable, Hashable {
        /// Term occurrences found.
        public var termsFound: Int
        /// Characters not inside a found term.
        public var remaining: Int
        public var points: Int { termsFound + remaining }
        /// Entra's verdict: a term was found and the score is below 5.
        public var isBanned: Bool { termsFound > 0 && points < 5 }
    }

    /// Entra's verdict. Passwords too long to score below 5 are not scored at all.
    public func isBanned(_ password: [Unicode.Scalar]) -> Bool {
        password.count <= longestBannable && score(password).isBanned
    }
    public func isBanned(_ password: String) -> Bool { isBanned(Array(password.unicodeScalars)) }
    public func score(_ password: String) -> Score { score(Array(password.unicodeScalars)) }

    /// Entra's score for `password`.
    public func score(_ password: [Unicode.Scalar]) -> Score {
        let p = Self.normalize(password)
        guard p.count >= 2 else { return Score(termsFound: 0, remaining: p.count) }
        var candidates: [Int32] = []
        for i in 0..<(p.count - 1) {
            var h = Self.hashSeed
            for j in i..<min(p.count, i + longestHalf) {
                h = Self.hashStep(h, p[j])
                if j > i, let hits = index[h] { candidates.append(contentsOf: hits) }
            }
        }
        guard !candidates.isEmpty else { return Score(termsFound: 0, remaining: p.count) }
        candidates.sort()
        var unique: [Int32] = []
        for c in candidates where unique.last != c { unique.append(c) }

        var consumed = [Bool](repeating: false, count: p.count)
        var found = 0
        for exact in [true, false] {
            for c in unique {
                let term = normalized[Int(c)]
                let lengths = exact ? [term.count] : [term.count, term.count + 1, term.count - 1]
                var i = 0
                scan: while i < p.count {
                    for len in lengths where i + len <= p.count && !consumed[i] {
                        let window = p[i..<(i + len)]
                        guard !window.indices.contains(where: { consumed[$0] }) else { continue }
                        if exact ? window.elementsEqual(term) : Self.withinOneEdit(window, term[...]) {
                            for j in window.indices { consumed[j] = true }
                            found += 1
                            i += len
                            continue scan
                        }
                    }
                    i += 1
                }
            }
        }
        return Score(termsFound: found, remaining: consumed.lazy.filter { !$0 }.count)
    }

    /// Lower case, then Entra's substitutions.
    static func normalize<S: Sequence>(_ scalars: S) -> [Unicode.Scalar] where S.Element == Unicode.Scalar {
        PasswordRules.lowered(scalars).map { s in
            switch s {
            case "0": "o"
            case "1": "l"
            case "$": "s"
            case "@": "a"
            case "3": "e"
            case "5": "s"
            case "7": "t"
            default: s
            }
        }
    }

    /// FNV-1a over scalar values; a collision only adds a candidate the match then rejects.
    static let hashSeed: UInt64 = 0xCBF2_9CE4_8422_2325
    static func hashStep(_ h: UInt64, _ s: Unicode.Scalar) -> UInt64 { (h ^ UInt64(s.value)) &* 0x100_0000_01B3 }
    static func hash(_ scalars: ArraySlice<Unicode.Scalar>) -> UInt64 { scalars.reduce(hashSeed, hashStep) }

    /// Levenshtein distance ≤ 1, in one pass.
    static func withinOneEdit(_ a: ArraySlice<Unicode.Scalar>, _ b: ArraySlice<Unicode.Scalar>) -> Bool {
        let (short, long) = a.count <= b.count ? (a, b) : (b, a)
        guard long.count - short.count <= 1 else { return false }
        var i = short.startIndex, j = long.startIndex, edits = 0
        while i < short.endIndex && j < long.endIndex {
            if short[i] == long[j] { i += 1; j += 1; continue }
            edits += 1
            if edits > 1 { return false }
            if short.count == long.count { i += 1 }
            j += 1
        }
        return edits + (long.endIndex - j) + (short.endIndex - i) <= 1
    }
}
