/// Why a configuration file was refused. Every case names the file, the line when it is known,
/// the key (`directory.uri`) and the reason, so an administrator can go straight to the spot;
/// `description` is the one-line message the daemon and `writebackctl doctor` print:
/// `/etc/writebackd/writebackd.toml:12: directory.uri: ldap:// without start_tls …`.
/// Values from the file appear only where they help (a URI, a method name); the configuration
/// holds no secrets by design (they live in files it points to).
public enum ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// Not valid TOML (line and column from the parser).
    case syntax(file: String, line: Int, column: Int, reason: String)
    /// A `[section]` the daemon does not know.
    case unknownSection(file: String, line: Int?, section: String, hint: String?)
    /// A key the daemon does not know, in a known section.
    case unknownKey(file: String, line: Int?, key: String, hint: String?)
    /// A required key is absent.
    case missingKey(file: String, line: Int?, key: String)
    /// The key holds another TOML type than the one expected.
    case wrongType(file: String, line: Int?, key: String, expected: String, found: String)
    /// The key's type is right but its value is not acceptable.
    case invalidValue(file: String, line: Int?, key: String, reason: String)

    /// The configuration file the error is about.
    public var file: String {
        switch self {
        case .unreadable(let f, _), .syntax(let f, _, _, _), .unknownSection(let f, _, _, _),
             .unknownKey(let f, _, _, _), .missingKey(let f, _, _), .wrongType(let f, _, _, _, _),
             .invalidValue(let f, _, _, _):
            return f
        }
    }

    /// 1-based line of the offending key or section, when known.
    public var line: Int? {
        switch self {
        case .unreadable: return nil
        case .syntax(_, let l, _, _): return l
        case .unknownSection(_, let l, _, _), .unknownKey(_, let l, _, _), .missingKey(_, let l, _),
             .wrongType(_, let l, _, _, _), .invalidValue(_, let l, _, _):
            return l
        }
    }

    /// Dotted key (`section.key`), or the section name; nil for file-level errors.
    public var key: String? {
        switch self {
        case .unreadable, .syntax: return nil
        case .unknownSection(_, _, let s, _): return s
        case .unknownKey(_, _, let k, _), .missingKey(_, _, let k), .wrongType(_, _, let k, _, _),
             .invalidValue(_, _, let k, _):
            return k
        }
    }

    /// What is wrong, in words, without the location.
    public var reason: String {
        switch self {
        case .unreadable(_, let r): return "cannot read the configuration: \(r)"
        case .syntax(_, _, let c, let r): return "TOML syntax error at column \(c): \(r)"
        case .unknownSection(_, _, _, let hint):
            return "unknown section" + (hint.map { " (\($0))" } ?? "")
        case .unknownKey(_, _, _, let hint):
            return "unknown key" + (hint.map { " (\($0))" } ?? "")
        case .missingKey: return "required key is missing"
        case .wrongType(_, _, _, let expected, let found): return "expected \(expected), found \(found)"
        case .invalidValue(_, _, _, let r): return r
        }
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let key { s += "\(key): " }
        return s + reason
    }
}
