import Foundation
import WritebackConfig
import WritebackCore

/// `writebackctl doctor`: everything an administrator would check by hand before (re)starting
/// writebackd, in the order a problem would bite — configuration, key and secret files, queue
/// and state store, outbox, control socket, then each directory URI (reachable, TLS, bind) and
/// the service account's rights. It reads and probes; it never changes the directory or a
/// request. Each failure carries its fix.
public struct Doctor: Sendable {
    public let configPath: String

    public init(configPath: String) { self.configPath = configPath }

    public func run() async -> DoctorReport {
        var report = DoctorReport()
        let config: Configuration
        do {
            config = try ConfigLoader.load(path: configPath)
            report.add(.pass("config", "\(configPath): valid (\(Self.summary(config.directories)))"))
        } catch {
            report.add(.fail("config", error.description, fix: Self.configFix(error)))
            return report
        }
        for check in DoctorFiles.keys(config) { report.add(check) }
        for d in config.directories {
            for check in DoctorFiles.credentials(d) { report.add(Self.named(check, d, in: config)) }
        }
        for check in DoctorFiles.policyFiles(config) { report.add(check) }
        for check in await DoctorStorage.queue(config) { report.add(check) }
        for check in await DoctorStorage.state(config) { report.add(check) }
        report.add(DoctorStorage.outbox(config))
        report.add(DoctorStorage.controlSocket(config))
        for check in DoctorAudit.run(config.audit) { report.add(check) }
        for d in config.directories {
            var one = config
            one.directories = [d]
            for check in await DoctorDirectory.run(one) { report.add(Self.named(check, d, in: config)) }
        }
        return report
    }

    /// `openldap, 2 URIs`, or per directory with several: `corp: openldap, 2 URIs (@corp.example, default); …`.
    static func summary(_ directories: [DirectoryConfig]) -> String {
        func one(_ d: DirectoryConfig) -> String { "\(d.flavor.rawValue), \(d.uris.count) URI\(d.uris.count == 1 ? "" : "s")" }
        guard directories.count > 1 else { return one(directories[0]) }
        return directories.map { d in
            let routes = d.routes.map(\.description) + (d.isDefault ? ["default"] : [])
            return "\(d.name): \(one(d)) (\(routes.joined(separator: ", ")))"
        }.joined(separator: "; ")
    }

    /// With several directories each directory check says which: `directory[corp] ldaps://… bind`.
    static func named(_ check: DoctorCheck, _ d: DirectoryConfig, in config: Configuration) -> DoctorCheck {
        guard config.directories.count > 1, check.name.hasPrefix("directory") else { return check }
        var c = check
        c.name = "directory[\(d.name)]" + c.name.dropFirst("directory".count)
        return c
    }

    static func configFix(_ error: ConfigError) -> String {
        switch error {
        case .unreadable: return "create the file (examples: /usr/share/doc/writebackd/examples/ from the Debian package, /usr/local/share/doc/writebackd/examples/ from make install) or pass --config PATH"
        case .syntax: return "correct the TOML at the line shown"
        case .unknownSection, .unknownKey: return "remove or rename the key at the line shown (every key is listed in the commented writebackd.toml)"
        case .missingKey: return "add the key; writebackd.toml documents it"
        case .wrongType, .invalidValue: return "change the value at the line shown"
        }
    }
}
