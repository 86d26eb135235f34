/// Finds the key positions that TOMLKit's parser (toml++ 3) does not check before it parses a
/// key: a table header whose name starts with a character that cannot start a key
/// (`[/directory]`), and a dotted key with such a character after a dot (`[a./b]`, `a./b = 1`).
/// toml++ asserts there (`parse_key: is_bare_key_character(*cp) || is_string_delimiter(*cp)`),
/// which aborts a build with assertions on, the daemon included, at start or at SIGHUP, instead
/// of refusing the file. Found by `make fuzz` (config target); this refuses those lines first,
/// as the syntax errors they are. Also a date-time whose `T` is not followed by a digit
/// (`1979-05-27T-07:32:00Z`: `parse_time: is_decimal_digit(*cp)`). And a `}` where an array
/// element should be (`x = [1,}]`, `[}`: `parse_value: !is_value_terminator(*cp)`; found by the
/// fuzzer's short run in CI). Pure: text in, the first problem out.
enum TOMLKeyPrecheck {
    struct Problem: Equatable {
        var line: Int
        var column: Int
        var reason: String
    }

    static func firstProblem(in text: String) -> Problem? {
        let keys = firstKeyProblem(in: text)
        guard let brace = misplacedBrace(in: text) else { return keys }
        guard let keys else { return brace }
        return (brace.line, brace.column) < (keys.line, keys.column) ? brace : keys
    }

    /// The first `}` whose previous significant character (whitespace, line breaks and comments
    /// skipped) is `[` or `,`, outside strings and comments. Never valid TOML: an array
    /// element or an inline table's next key is missing (TOML has no trailing comma in inline
    /// tables); toml++ asserts on it inside an array.
    static func misplacedBrace(in text: String) -> Problem? {
        let c = Array(text.unicodeScalars)
        var line = 1, column = 0
        var previous: Unicode.Scalar?      // the last significant character outside strings
        var k = 0
        func tripled(_ quote: Unicode.Scalar, at i: Int) -> Bool {
            i + 2 < c.count && c[i] == quote && c[i + 1] == quote && c[i + 2] == quote
        }
        // Moves past c[k], keeping line and column.
        func step() {
            if c[k] == "\n" { line += 1; column = 0 } else { column += 1 }
            k += 1
        }
        while k < c.count {
            let ch = c[k]
            if ch == "#" {
                while k < c.count, c[k] != "\n" { step() }
                continue
            }
            if (ch == "\"" || ch == "'") && tripled(ch, at: k) {
                for _ in 0..<3 { step() }
                while k < c.count, !tripled(ch, at: k) {
                    if ch == "\"" && c[k] == "\\" && k + 1 < c.count { step() }
                    step()
                }
                for _ in 0..<3 where k < c.count { step() }
                previous = ch
                continue
            }
            if ch == "\"" || ch == "'" {
                step()
                while k < c.count, c[k] != ch, c[k] != "\n" {
                    if ch == "\"" && c[k] == "\\" && k + 1 < c.count && c[k + 1] != "\n" { step() }
                    step()
                }
                if k < c.count, c[k] == ch { step() }
                previous = ch
                continue
            }
            step()
            if ch == " " || ch == "\t" || ch == "\r" || ch == "\n" { continue }
            if ch == "}", previous == "[" || previous == "," {
                return Problem(line: line, column: column,
                               reason: previous == "[" ? "an array element is missing before '}'" : "a value is missing after ','")
            }
            previous = ch
        }
        return nil
    }

    static func firstKeyProblem(in text: String) -> Problem? {
        var inMultiline: String?   // the delimiter of the multi-line string we are in
        var arrayDepth = 0         // inside a value array that spans lines: no keys there
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Array(rawLine.unicodeScalars)
            if let delimiter = inMultiline {
                if String(rawLine).contains(delimiter) { inMultiline = nil }
                continue
            }
            if arrayDepth > 0 {
                if let column = badDateTime(line[...]) {
                    return Problem(line: lineNumber, column: column + 1, reason: "a date-time needs a time after 'T'")
                }
                arrayDepth = max(0, arrayDepth + bracketDelta(line[...]))
                continue
            }
            var i = 0
            while i < line.count, line[i] == " " || line[i] == "\t" { i += 1 }
            guard i < line.count else { continue }
            let isHeader = line[i] == "["
            if isHeader {
                i += 1
                if i < line.count, line[i] == "[" { i += 1 }
            } else if !isKeyStart(line[i]) {
                // A comment, or something toml++ itself refuses before reaching a key.
                continue
            }
            // The key: bare parts and quoted parts separated by dots.
            while true {
                while i < line.count, line[i] == " " || line[i] == "\t" { i += 1 }
                guard i < line.count else {
                    // `[` or `a.` at the end of a line: toml++ asserts on the line break too.
                    return Problem(line: lineNumber, column: i + 1, reason: "\(isHeader ? "a table name" : "a key") is missing")
                }
                guard isKeyStart(line[i]) else {
                    return Problem(line: lineNumber, column: i + 1,
                                   reason: "\(isHeader ? "a table name" : "a key") cannot start with '\(line[i].escaped(asASCII: true))'")
                }
                if line[i] == "\"" || line[i] == "'" {
                    let quote = line[i]
                    i += 1
                    while i < line.count, line[i] != quote { i += line[i] == "\\" && quote == "\"" ? 2 : 1 }
                    i += 1
                } else {
                    while i < line.count, isBare(line[i]) { i += 1 }
                }
                while i < line.count, line[i] == " " || line[i] == "\t" { i += 1 }
                guard i < line.count, line[i] == "." else { break }
                i += 1
            }
            if !isHeader, let column = badDateTime(line[min(i, line.count)...]) {
                return Problem(line: lineNumber, column: column + 1, reason: "a date-time needs a time after 'T'")
            }
            // A value that opens an array or a multi-line string continues on the next lines.
            if !isHeader { arrayDepth = max(0, bracketDelta(line[min(i, line.count)...])) }
            let rest = String(String.UnicodeScalarView(line[min(i, line.count)...]))
            for delimiter in ["\"\"\"", "'''"] where rest.components(separatedBy: delimiter).count == 2 {
                inMultiline = delimiter
            }
        }
        return nil
    }

    /// The index of a `T`/`t` that follows a date (`DDDD-DD-DD`) without a digit after it,
    /// outside quoted strings and comments; nil when there is none.
    static func badDateTime(_ text: ArraySlice<Unicode.Scalar>) -> Int? {
        let c = Array(text)
        let start = text.startIndex
        var quote: Unicode.Scalar?
        var escaped = false
        func digit(_ k: Int) -> Bool { k >= 0 && k < c.count && c[k] >= "0" && c[k] <= "9" }
        for k in c.indices {
            if let q = quote {
                if escaped { escaped = false } else if c[k] == "\\" && q == "\"" { escaped = true } else if c[k] == q { quote = nil }
                continue
            }
            switch c[k] {
            case "\"", "'": quote = c[k]
            case "#": return nil
            case "T", "t":
                let isDate = k >= 10 && (1...4).allSatisfy { digit(k - 10 + $0 - 1) } && c[k - 6] == "-"
                    && digit(k - 5) && digit(k - 4) && c[k - 3] == "-" && digit(k - 2) && digit(k - 1)
                if isDate && !digit(k + 1) { return start + k }
            default: break
            }
        }
        return nil
    }

    /// `[` minus `]` outside quoted strings and comments.
    static func bracketDelta(_ text: ArraySlice<Unicode.Scalar>) -> Int {
        var depth = 0
        var quote: Unicode.Scalar?
        var escaped = false
        for c in text {
            if let q = quote {
                if escaped { escaped = false } else if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
                continue
            }
            switch c {
            case "\"", "'": quote = c
            case "#": return depth
            case "[": depth += 1
            case "]": depth -= 1
            default: break
            }
        }
        return depth
    }

    static func isBare(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-"
    }

    static func isKeyStart(_ c: Unicode.Scalar) -> Bool { isBare(c) || c == "\"" || c == "'" }
}
