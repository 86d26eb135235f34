/// Finds the line of a dotted key in TOML text. TOMLKit reports lines for syntax errors only,
/// but an administrator wants the line of a bad *value* too, so the loader scans the text:
/// `[table]` headers and `key = …` lines (bare, quoted and dotted keys). A key written inside
/// an inline table resolves to the line of its nearest known parent. Entries of an array of
/// tables (`[[directory]]`) are found by position too: `directory[1].route` is the `route` of
/// the second entry (and `directory.route` that of the first), so an error about one entry
/// points at that entry's line.
struct KeyLocator: Sendable {
    private var lines: [String: Int] = [:]
    /// For each array-of-tables path, the index of its latest entry.
    private var arrayIndex: [String: Int] = [:]

    init(text: String) {
        var current: [String] = []
        var lineNumber = 0
        var inMultiline: String? = nil
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.trimmingWhitespace()
            if let delimiter = inMultiline {
                if line.contains(delimiter) { inMultiline = nil }
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                let isArray = line.hasPrefix("[[")
                let open = isArray ? 2 : 1
                guard let close = line.firstIndex(of: "]") else { continue }
                let inner = String(line[line.index(line.startIndex, offsetBy: open)..<close])
                let plain = Self.splitDotted(inner)
                if isArray {
                    let key = plain.joined(separator: ".")
                    arrayIndex[key] = (arrayIndex[key] ?? -1) + 1
                }
                current = indexed(plain)
                record(current, lineNumber)
                continue
            }
            guard let eq = Self.assignmentIndex(line) else { continue }
            let keyPart = Self.splitDotted(String(line[..<eq]))
            guard !keyPart.isEmpty else { continue }
            for i in 1...keyPart.count { record(current + keyPart.prefix(i), lineNumber) }
            let value = line[line.index(after: eq)...]
            for delimiter in ["\"\"\"", "'''"] {
                if let r = value.range(of: delimiter), !value[r.upperBound...].contains(delimiter) {
                    inMultiline = delimiter
                }
            }
        }
    }

    /// `plain` with each array-of-tables component replaced by `name[latest index]`.
    private func indexed(_ plain: [String]) -> [String] {
        var out: [String] = []
        for (i, part) in plain.enumerated() {
            let prefix = plain[0...i].joined(separator: ".")
            if let n = arrayIndex[prefix] { out.append("\(part)[\(n)]") } else { out.append(part) }
        }
        return out
    }

    /// Records `path` (with indexes) and its plain form (without), each at its first line.
    private mutating func record(_ path: [String], _ line: Int) {
        let key = path.joined(separator: ".")
        if lines[key] == nil { lines[key] = line }
        let plain = path.map { part in part.firstIndex(of: "[").map { String(part[..<$0]) } ?? part }.joined(separator: ".")
        if lines[plain] == nil { lines[plain] = line }
    }

    /// The line of `key` (dotted), else of its longest known parent, else nil.
    func line(of key: String) -> Int? {
        var parts = key.split(separator: ".").map(String.init)
        while !parts.isEmpty {
            if let l = lines[parts.joined(separator: ".")] { return l }
            parts.removeLast()
        }
        return nil
    }

    /// Index of the `=` that ends the key part, skipping quoted key segments.
    private static func assignmentIndex(_ line: Substring) -> String.Index? {
        var quote: Character? = nil
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "=" {
                return i
            } else if !(c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." || c == " " || c == "\t") {
                return nil
            }
            i = line.index(after: i)
        }
        return nil
    }

    /// `a."b.c".d` → ["a", "b.c", "d"].
    static func splitDotted(_ s: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character? = nil
        for c in s {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "." {
                parts.append(String(current.trimmingWhitespace())); current = ""
            } else {
                current.append(c)
            }
        }
        let last = current.trimmingWhitespace()
        if !last.isEmpty || !parts.isEmpty { parts.append(String(last)) }
        return parts
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return s
    }
}
