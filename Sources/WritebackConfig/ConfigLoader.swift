#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TOMLKit
import WritebackCore

/// Turns `writebackd.toml` into a validated `Configuration`, or refuses it with the file, line,
/// key and reason. Everything the daemon, `writebackctl` and the tests read goes through here,
/// so one set of rules decides what a good configuration is:
/// unknown sections and keys are errors (a typo must not silently fall back to a default),
/// types and ranges are checked, and cross-key rules (encryption of every bind, what each bind
/// method needs, policy bounds, system groups) are enforced.
///
/// Files the configuration points to (keys, CA, password files) are *not* required to exist
/// at load time: the portal host that runs `writebackctl enqueue` has none of the daemon's files,
/// and `writebackctl doctor` reports each missing file with its fix. The daemon opens them at
/// start and refuses to run when one is missing.
public enum ConfigLoader {
    /// The sections a configuration may have.
    static let sections = ["directory", "queue", "keys", "policy", "licenses", "outbox", "control", "state", "audit"]

    /// Default location.
    public static let defaultPath = "/etc/writebackd/writebackd.toml"

    /// Reads and validates the file at `path`.
    public static func load(path: String) throws(ConfigError) -> Configuration {
        return try parse(toml: try readText(path), path: path)
    }

    /// Validates TOML `toml`; `path` is only used in messages and `sourcePath`.
    /// `groupExists` answers whether a system group exists (tests may inject one).
    public static func parse(toml: String, path: String,
                             groupExists: @escaping (String) -> Bool = SystemGroups.exists) throws(ConfigError) -> Configuration {
        if let problem = TOMLKeyPrecheck.firstProblem(in: toml) {
            throw .syntax(file: path, line: problem.line, column: problem.column, reason: problem.reason)
        }
        let root: TOMLTable
        do {
            root = try TOMLTable(string: toml)
        } catch let error as TOMLParseError {
            throw .syntax(file: path, line: error.source.begin.line, column: error.source.begin.column, reason: error.description)
        } catch {
            throw .syntax(file: path, line: 0, column: 0, reason: "\(error)")
        }
        let context = ParseContext(file: path, locator: KeyLocator(text: toml), groupExists: groupExists)

        // Unknown top-level names first, in file order.
        let unknown = root.keys.filter { !sections.contains($0) }
            .map { (name: $0, line: context.locator.line(of: $0)) }
            .sorted { ($0.line ?? .max, $0.name) < ($1.line ?? .max, $1.name) }
        if let first = unknown.first {
            let isTable = root[first.name]?.type == .table
            if isTable {
                throw .unknownSection(file: path, line: first.line, section: first.name,
                                      hint: Suggestions.hint(for: first.name, known: sections))
            }
            throw .unknownKey(file: path, line: first.line, key: first.name,
                              hint: "keys belong in a section: " + sections.map { "[\($0)]" }.joined(separator: ", "))
        }

        func section(_ name: String, required: Bool) throws(ConfigError) -> TOMLTable? {
            guard let value = root[name] else {
                if required { throw .missingKey(file: path, line: nil, key: name) }
                return nil
            }
            guard let table = value.table else {
                throw .wrongType(file: path, line: context.locator.line(of: name), key: name,
                                 expected: "a table ([\(name)])", found: TableReader.typeName(value.type))
            }
            return table
        }
        let empty = TOMLTable()

        guard let directoryValue = root["directory"] else { throw .missingKey(file: path, line: nil, key: "directory") }
        let several = (directoryValue.array?.count ?? 1) > 1
        // [policy] is read first ([directory.policy] overrides it), but a bad [directory] is
        // still reported first, as the sections are listed.
        let policy: PolicyConfig
        do {
            policy = try PolicySection.read(try section("policy", required: false) ?? empty, context, groupsPerDirectory: several)
        } catch {
            _ = try DirectoriesSection.read(directoryValue, policy: PolicyConfig(), context)
            throw error
        }
        let directories = try DirectoriesSection.read(directoryValue, policy: policy, context)
        let queue = try QueueSection.read(try section("queue", required: false) ?? empty, context)
        let keys = try KeysSection.read(try section("keys", required: true)!, context)
        let licenses = try LicensesSection.read(try section("licenses", required: false) ?? empty, context)
        let outbox = try OutboxSection.read(try section("outbox", required: false) ?? empty, context)
        let control = try ControlSection.read(try section("control", required: false) ?? empty, context)
        let state = try StateSection.read(try section("state", required: false) ?? empty, context)
        let audit = try AuditSection.read(try section("audit", required: false) ?? empty, state: state, context)

        // Cross-section rules.
        for directory in directories where Double(queue.leaseSeconds) <= directory.timeoutSeconds * 2 {
            let which = directories.count > 1 ? "directory[\(directory.name)]" : "directory"
            throw .invalidValue(file: path, line: context.locator.line(of: "queue.lease_seconds"), key: "queue.lease_seconds",
                                reason: "\(queue.leaseSeconds) s must exceed twice \(which).timeout_seconds (\(directory.timeoutSeconds) s), or a slow write could lose its lease")
        }
        if state.url != nil && queue.backend != QueueBackend.postgres {
            throw .invalidValue(file: path, line: context.locator.line(of: "state.url"), key: "state.url",
                                reason: "a PostgreSQL state store needs [queue] backend = \"postgres\"")
        }
        var config = Configuration(directories: directories, queue: queue, keys: keys, policy: policy, licenses: licenses,
                                   outbox: outbox, control: control, state: state, sourcePath: path)
        config.audit = audit
        return config
    }

    /// Whole file as UTF-8.
    static func readText(_ path: String) throws(ConfigError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(file: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > 4 << 20 { throw .unreadable(file: path, reason: "larger than 4 MiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .unreadable(file: path, reason: "not valid UTF-8") }
        return text
    }
}

/// `read(2)`, named so it does not clash with the `read(path:)` methods.
@inline(__always)
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
#if canImport(Glibc)
    Glibc.read(fd, buffer, count)
#else
    Darwin.read(fd, buffer, count)
#endif
}

#if canImport(Glibc)
typealias SystemGroupEntry = Glibc.group
#else
typealias SystemGroupEntry = Darwin.group
#endif

/// System group lookups (getgrnam_r), for `[control] group` / `admin_group`.
public enum SystemGroups {
    public static func exists(_ name: String) -> Bool { gid(of: name) != nil }

    public static func gid(of name: String) -> gid_t? {
        var group = SystemGroupEntry()
        var result: UnsafeMutablePointer<SystemGroupEntry>? = nil
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getgrnam_r(name, &group, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else { return nil }
        return group.gr_gid
    }
}
