import TOMLKit
import WritebackCore

/// `[directory]` (one table, as before) or `[[directory]]` (several, each with a `name` and
/// the `route`s it owns). Exists to enforce, at load, what makes routing unambiguous: unique
/// names, every route owned by exactly one entry (an overlap names both entries with file and
/// line), at most one `default = true`, no entry that could receive nothing, and no two entries
/// with the same base DN (the state store keys history and throttle counters by DN, so two
/// trees with the same DNs would share them). Nested base DNs (an AD forest
/// `DC=corp,DC=example,DC=org` beside an OpenLDAP `dc=example,dc=org`) are allowed: their
/// entries' DNs differ unless the outer tree holds the inner one's subtree itself.
enum DirectoriesSection {
    static func read(_ value: TOMLValueConvertible, policy: PolicyConfig, _ context: ParseContext) throws(ConfigError) -> [DirectoryConfig] {
        if let table = value.table {
            return [try DirectorySection.read(table, context, policy: policy)]
        }
        guard let array = value.array else {
            throw .wrongType(file: context.file, line: context.locator.line(of: "directory"), key: "directory",
                             expected: "a table ([directory]) or an array of tables ([[directory]])", found: TableReader.typeName(value.type))
        }
        guard !array.isEmpty else {
            throw .invalidValue(file: context.file, line: context.locator.line(of: "directory"), key: "directory", reason: "give at least one directory")
        }
        var entries: [(config: DirectoryConfig, locator: String, section: String)] = []
        for (i, element) in array.enumerated() {
            guard let table = element.table else {
                throw .wrongType(file: context.file, line: context.locator.line(of: "directory"), key: "directory",
                                 expected: "an array of tables ([[directory]])", found: "an array holding \(TableReader.typeName(element.type))")
            }
            let locator = "directory[\(i)]"
            let section = (table["name"]?.string).map { "directory[\($0)]" } ?? "directory[#\(i + 1)]"
            let config = try DirectorySection.read(table, context, section: section, locatorSection: locator, needsName: true,
                                                   policy: policy, checkPolicy: array.count > 1)
            entries.append((config, locator, section))
        }
        try checkTogether(entries, context)
        return entries.map(\.config)
    }

    /// The rules between entries. Every message names both entries and where they are.
    static func checkTogether(_ entries: [(config: DirectoryConfig, locator: String, section: String)], _ context: ParseContext) throws(ConfigError) {
        func line(_ entry: Int, _ key: String) -> Int? { context.locator.line(of: "\(entries[entry].locator).\(key)") }
        func at(_ entry: Int, _ key: String) -> String {
            context.file + (line(entry, key).map { ":\($0)" } ?? "")
        }
        func error(_ entry: Int, _ key: String, _ reason: String) -> ConfigError {
            .invalidValue(file: context.file, line: line(entry, key), key: "\(entries[entry].section).\(key)", reason: reason)
        }
        var names: [String: Int] = [:]
        var routes: [DirectoryRoute: Int] = [:]
        var defaultEntry: Int?
        for (i, entry) in entries.enumerated() {
            let d = entry.config
            if let other = names[d.name.lowercased()] {
                throw error(i, "name", "\"\(d.name)\" is also the name of the directory at \(at(other, "name")); names must be unique")
            }
            names[d.name.lowercased()] = i
            for route in d.routes {
                if let other = routes[route] {
                    throw error(i, "route", "\"\(route)\" overlaps directory \"\(entries[other].config.name)\" (\(at(other, "route"))), which routes it already: each route belongs to one directory")
                }
                routes[route] = i
            }
            if d.isDefault {
                if let other = defaultEntry {
                    throw error(i, "default", "directory \"\(entries[other].config.name)\" (\(at(other, "default"))) is the default already: only one directory takes bare user names")
                }
                defaultEntry = i
            }
            if entries.count > 1 && d.routes.isEmpty && !d.isDefault {
                throw error(i, "route", "directory \"\(d.name)\" would receive no request: give it route = [\"@domain\", …] or default = true")
            }
        }
        for i in entries.indices {
            for j in entries.indices where j < i {
                let a = DirectoryUser.normalize(dn: entries[j].config.baseDN), b = DirectoryUser.normalize(dn: entries[i].config.baseDN)
                if a == b {
                    throw error(i, "base_dn", "\"\(entries[i].config.baseDN)\" is the same tree as directory \"\(entries[j].config.name)\"'s base_dn (\(at(j, "base_dn"))): their users' DNs could collide in the state store (history, throttle)")
                }
            }
        }
    }
}
