import Foundation

/// Builds search filters from untrusted identities. It exists so that no user-supplied byte
/// ever reaches a filter unescaped (RFC 4515): `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`,
/// `\29`, `\5c`, `\00`; everything else, non-ASCII UTF-8 included, passes as it is.
public enum LDAPFilter {
    /// The RFC 4515 assertion-value escaping of `value`'s UTF-8 bytes.
    public static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "*": out += "\\2a"
            case "(": out += "\\28"
            case ")": out += "\\29"
            case "\\": out += "\\5c"
            case "\u{0}": out += "\\00"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `(&<userFilter>(|(attr1=<id>)(attr2=<id>)…))` with `identity` escaped. `userFilter`
    /// comes from the configuration (trusted); it is wrapped in parentheses if it is not.
    public static func identity(userFilter: String, attributes: [String], identity: String) -> String {
        let id = escape(identity)
        var uf = userFilter.trimmingCharacters(in: .whitespaces)
        if !uf.hasPrefix("(") { uf = "(\(uf))" }
        let alternatives = attributes.map { "(\($0)=\(id))" }.joined()
        return "(&\(uf)(|\(alternatives)))"
    }

    /// `(attr=value)` with `value` escaped (DNs of groups, for membership searches).
    public static func equality(_ attribute: String, _ value: String) -> String {
        "(\(attribute)=\(escape(value)))"
    }
}
