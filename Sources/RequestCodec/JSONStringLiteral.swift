/// JSON string literals, written in one place for all the JSON this project writes itself
/// (request payloads in `JSONValue.serialized()`, audit trail lines): compact, UTF-8, only the
/// escapes RFC 8259 requires (`"`, `\`, control characters as `\n`, `\r`, `\t` or `\u00XX`).
public enum JSONStringLiteral {
    /// Appends `s` quoted to `out`. `nulReplacement`: what a NUL becomes (nil: `\u0000`; the
    /// audit trail writes U+FFFD, because its strict reader refuses NUL even escaped).
    /// `escapeLineSeparators`: U+2028 and U+2029 as `\u2028`/`\u2029` too, so a line read by a
    /// JavaScript tool is never split.
    public static func append(_ s: String, to out: inout String, nulReplacement: Unicode.Scalar? = nil,
                              escapeLineSeparators: Bool = false) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0}" where nulReplacement != nil: out.unicodeScalars.append(nulReplacement!)
            case _ where scalar.value < 0x20 || (escapeLineSeparators && (scalar.value == 0x2028 || scalar.value == 0x2029)):
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
