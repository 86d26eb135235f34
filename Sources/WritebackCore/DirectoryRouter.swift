/// One `route` of a directory: the part of a request's `user` that says which directory holds
/// the account. Exists so a merged organisation can run one daemon for several forests and
/// OpenLDAP trees: `"@contoso.com"` owns `alice@contoso.com` (a UPN or mail address),
/// `"CONTOSO\\"` owns `CONTOSO\alice` (a down-level logon name).
///
/// Matching is exact and case-insensitive: `"@contoso.com"` does not own
/// `alice@eu.contoso.com` (list that domain too), so two routes overlap exactly when they are
/// equal, which the configuration refuses.
public enum DirectoryRoute: Sendable, Hashable, CustomStringConvertible {
    /// `@domain`: the text after the user's last `@`. Stored lower-cased, without the `@`.
    case suffix(String)
    /// `DOMAIN\`: the text before the user's first `\`. Stored lower-cased, without the `\`.
    case prefix(String)

    /// Parses a configured route; nil when it is neither `@domain` nor `DOMAIN\`.
    public init?(_ text: String) {
        if text.hasPrefix("@") {
            let domain = text.dropFirst()
            guard Self.isValidPart(domain), !domain.contains("@") else { return nil }
            self = .suffix(domain.lowercased())
        } else if text.hasSuffix("\\") {
            let name = text.dropLast()
            guard Self.isValidPart(name) else { return nil }
            self = .prefix(name.lowercased())
        } else {
            return nil
        }
    }

    /// Letters, digits, `.`, `-`, `_`; 1…253 characters; no `\`, `@`, space or control.
    static func isValidPart(_ s: Substring) -> Bool {
        guard !s.isEmpty, s.count <= 253 else { return false }
        return s.unicodeScalars.allSatisfy { c in
            (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "." || c == "-" || c == "_")
        }
    }

    /// As written in the configuration (lower-cased).
    public var description: String {
        switch self {
        case .suffix(let d): "@" + d
        case .prefix(let n): n + "\\"
        }
    }
}

/// Decides which directory a request's `user` belongs to, and the identity to look up there.
/// Pure (no I/O), so every rule is a table-driven unit test:
/// - `DOMAIN\name` (a `\` in the user): the directory with route `DOMAIN\`; looked up as
///   `name` unless that directory sets `strip_prefix = false`.
/// - `name@domain` (an `@`, no `\`): the directory with route `@domain`; looked up whole
///   unless it sets `strip_suffix = true`.
/// - a bare name: the directory with `default = true`.
/// - a single directory without routes takes every user unchanged (the one-`[directory]`
///   configuration of old).
/// Anything else is `unmatched`, which the daemon records as `not_managed` with the reason.
public struct DirectoryRouter: Sendable {
    /// Where a user goes.
    public enum Decision: Sendable, Hashable {
        /// `index` into the configuration's `directories`; `lookup`: the identity to search.
        case directory(index: Int, lookup: String)
        /// No directory owns the user; `reason` says why (for the outcome's `detail`).
        case unmatched(reason: String)
    }

    private let suffixes: [String: Int]
    private let prefixes: [String: Int]
    private let defaultIndex: Int?
    private let catchAll: Bool
    private let stripPrefix: [Bool]
    private let stripSuffix: [Bool]

    /// `directories` as validated by the configuration (routes unique across entries).
    public init(directories: [DirectoryConfig]) {
        var suffixes: [String: Int] = [:], prefixes: [String: Int] = [:]
        for (i, d) in directories.enumerated() {
            for route in d.routes {
                switch route {
                case .suffix(let s): if suffixes[s] == nil { suffixes[s] = i }
                case .prefix(let p): if prefixes[p] == nil { prefixes[p] = i }
                }
            }
        }
        self.suffixes = suffixes; self.prefixes = prefixes
        defaultIndex = directories.firstIndex(where: \.isDefault)
        catchAll = directories.count == 1 && directories[0].routes.isEmpty
        stripPrefix = directories.map(\.stripPrefix)
        stripSuffix = directories.map(\.stripSuffix)
    }

    public func route(_ user: String) -> Decision {
        if catchAll { return .directory(index: 0, lookup: user) }
        if let backslash = user.firstIndex(of: "\\") {
            let domain = user[..<backslash]
            let name = String(user[user.index(after: backslash)...])
            guard let index = prefixes[domain.lowercased()] else {
                return .unmatched(reason: "no directory has the route \"\(Self.shown(domain))\\\"")
            }
            guard stripPrefix[index] else { return .directory(index: index, lookup: user) }
            guard !name.isEmpty else { return .unmatched(reason: "no user name after \"\(Self.shown(domain))\\\"") }
            return .directory(index: index, lookup: name)
        }
        if let at = user.lastIndex(of: "@") {
            let domain = user[user.index(after: at)...]
            let name = String(user[..<at])
            guard let index = suffixes[domain.lowercased()] else {
                return .unmatched(reason: "no directory has the route \"@\(Self.shown(domain))\"")
            }
            guard stripSuffix[index] else { return .directory(index: index, lookup: user) }
            guard !name.isEmpty else { return .unmatched(reason: "no user name before \"@\(Self.shown(domain))\"") }
            return .directory(index: index, lookup: name)
        }
        guard let defaultIndex else { return .unmatched(reason: "a user name without @domain or DOMAIN\\ and no directory has default = true") }
        return .directory(index: defaultIndex, lookup: user)
    }

    /// A domain from a hostile request, fit for a `detail`: at most 64 characters, no
    /// control characters or quotes.
    static func shown(_ s: Substring) -> String {
        let clean = String(String.UnicodeScalarView(s.unicodeScalars.filter {
            !$0.properties.generalCategory.isControl && $0 != "\"" && $0 != "\\"
        }))
        return clean.count > 64 ? String(clean.prefix(64)) + "…" : clean
    }
}

private extension Unicode.GeneralCategory {
    var isControl: Bool {
        switch self {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: true
        default: false
        }
    }
}

extension Configuration {
    /// The configuration as the directory that owns `user` sees it: only that directory, with
    /// its effective rules as `policy`, and the identity to look up there; or why none owns
    /// the user. For one-shot commands (`check-password`) that serve one user.
    public func routed(user: String) -> Result<(configuration: Configuration, lookup: String), RoutingError> {
        switch DirectoryRouter(directories: directories).route(user) {
        case .unmatched(let reason):
            return .failure(RoutingError(reason: reason))
        case .directory(let index, let lookup):
            var one = self
            one.policy = policy(for: directories[index])
            one.directories = [directories[index]]
            one.directories[0].policy = nil
            one.directories[0].routes = []
            return .success((one, lookup))
        }
    }
}

/// No configured directory owns a user; `reason` says why.
public struct RoutingError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
