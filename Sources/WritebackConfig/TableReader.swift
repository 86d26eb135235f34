import TOMLKit

/// Typed, located access to one TOML table (`[directory]`, …). It refuses keys it was not told
/// about (with the line and a "did you mean" hint), and every getter turns a wrong type into a
/// `ConfigError` naming `section.key` and its line. Lives only for one `parse` call, on one
/// thread: TOMLKit's tables are not `Sendable`.
struct TableReader {
    /// How messages name the table (`directory`, `directory[contoso].policy`).
    let section: String
    /// The table's path for `KeyLocator` (`directory[1].policy` for the second entry of
    /// `[[directory]]`); `section` unless told otherwise.
    let locatorSection: String
    let context: ParseContext
    private let table: TOMLTable

    init(_ table: TOMLTable, section: String, locatorSection: String? = nil, known: [String], context: ParseContext) throws(ConfigError) {
        self.table = table; self.section = section; self.context = context
        self.locatorSection = locatorSection ?? section
        let unknown = table.keys.filter { !known.contains($0) }
        // Report the first unknown key in file order, so the message points at the first fix.
        let located = unknown.map { (key: $0, line: context.locator.line(of: "\(self.locatorSection).\($0)")) }
            .sorted { ($0.line ?? .max, $0.key) < ($1.line ?? .max, $1.key) }
        if let first = located.first {
            throw .unknownKey(file: context.file, line: first.line, key: "\(section).\(first.key)",
                              hint: Suggestions.hint(for: first.key, known: known))
        }
    }

    func name(_ key: String) -> String { "\(section).\(key)" }
    func line(_ key: String) -> Int? { context.locator.line(of: "\(locatorSection).\(key)") }
    /// The line of the table's header (or of its first key).
    var headerLine: Int? { context.locator.line(of: locatorSection) }
    func has(_ key: String) -> Bool { table.keys.contains(key) }

    func invalid(_ key: String, _ reason: String) -> ConfigError {
        .invalidValue(file: context.file, line: line(key), key: name(key), reason: reason)
    }

    func missing(_ key: String) -> ConfigError {
        .missingKey(file: context.file, line: headerLine, key: name(key))
    }

    private func wrongType(_ key: String, expected: String, found: TOMLValueConvertible) -> ConfigError {
        .wrongType(file: context.file, line: line(key), key: name(key), expected: expected, found: Self.typeName(found.type))
    }

    static func typeName(_ t: TOMLType) -> String {
        switch t {
        case .table: return "a table"
        case .array: return "an array"
        case .string: return "a string"
        case .int: return "an integer"
        case .double: return "a float"
        case .bool: return "a boolean"
        case .date: return "a date"
        case .time: return "a time"
        case .dateTime: return "a date-time"
        }
    }

    /// A sub-table (`[directory.policy]`).
    func subtable(_ key: String) throws(ConfigError) -> TOMLTable? {
        guard let v = table[key] else { return nil }
        guard let t = v.table else { throw wrongType(key, expected: "a table ([\(section).\(key)])", found: v) }
        return t
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let v = table[key] else { return nil }
        guard let s = v.string else { throw wrongType(key, expected: "a string", found: v) }
        return s
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let v = table[key] else { return nil }
        guard let b = v.bool else { throw wrongType(key, expected: "a boolean (true or false)", found: v) }
        return b
    }

    func int(_ key: String) throws(ConfigError) -> Int? {
        guard let v = table[key] else { return nil }
        guard let i = v.int else { throw wrongType(key, expected: "an integer", found: v) }
        return i
    }

    /// An integer or a float (`10` and `2.5` both mean seconds).
    func number(_ key: String) throws(ConfigError) -> Double? {
        guard let v = table[key] else { return nil }
        if let i = v.int { return Double(i) }
        guard let d = v.double else { throw wrongType(key, expected: "a number", found: v) }
        guard d.isFinite else { throw invalid(key, "must be a finite number") }
        return d
    }

    /// An array of strings; with `allowSingle` a lone string counts as a one-element array.
    func strings(_ key: String, allowSingle: Bool = false) throws(ConfigError) -> [String]? {
        guard let v = table[key] else { return nil }
        if allowSingle, let s = v.string { return [s] }
        guard let array = v.array else {
            throw wrongType(key, expected: allowSingle ? "a string or an array of strings" : "an array of strings", found: v)
        }
        var out: [String] = []
        for element in array {
            guard let s = element.string else {
                throw .wrongType(file: context.file, line: line(key), key: name(key),
                                 expected: "an array of strings", found: "an array holding \(Self.typeName(element.type))")
            }
            out.append(s)
        }
        return out
    }

    /// `int` bounded to `range`.
    func int(_ key: String, in range: ClosedRange<Int>, unit: String = "") throws(ConfigError) -> Int? {
        guard let i = try int(key) else { return nil }
        guard range.contains(i) else {
            throw invalid(key, "\(i) is out of range: must be \(range.lowerBound)…\(range.upperBound)\(unit.isEmpty ? "" : " " + unit)")
        }
        return i
    }

    /// A string that must be one of an enum's raw values.
    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(ConfigError) -> E? where E.RawValue == String {
        guard let s = try string(key) else { return nil }
        guard let e = E(rawValue: s) else {
            let allowed = E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw invalid(key, "\"\(s)\" is not one of \(allowed)")
        }
        return e
    }

    /// A path that must be absolute when non-empty (the daemon runs with `/` as its directory).
    func path(_ key: String, allowEmpty: Bool = false) throws(ConfigError) -> String? {
        guard let p = try string(key) else { return nil }
        if p.isEmpty {
            if allowEmpty { return p }
            throw invalid(key, "must not be empty")
        }
        guard p.hasPrefix("/") else { throw invalid(key, "\"\(p)\" must be an absolute path") }
        guard !p.contains("\0") else { throw invalid(key, "must not contain NUL") }
        return p
    }
}

/// What every section reader needs: the file name for messages and the line finder.
struct ParseContext {
    let file: String
    let locator: KeyLocator
    let groupExists: (String) -> Bool
}
