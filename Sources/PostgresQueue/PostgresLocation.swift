import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL queue or state store lives, from `[queue] url` / `[state] url`
/// (`postgres://user@host:port/db?sslmode=…&sslrootcert=…`, or `?host=/socket/dir` for a Unix
/// socket). It exists to turn the one configuration string into a client configuration with
/// the contract's rules: never a password in the URL (the configuration refuses one); the
/// password, when the server asks for one, comes from the file in `PGPASSFILE` (libpq's format,
/// a systemd credential); TLS is `verify-full` unless the server is on loopback or a Unix socket.
struct PostgresLocation: Sendable, Hashable {
    enum TLSMode: String, Sendable, Hashable { case disable, require, verifyFull = "verify-full" }

    var user: String
    var host: String?
    var socketDirectory: String?
    var port: Int
    var database: String
    var tls: TLSMode
    var rootCertificate: String?

    /// A name for errors and logs: the URL without query, never a secret (it holds none).
    var display: String { socketDirectory.map { "postgres://\(user)@\($0):\(port)/\(database)" } ?? "postgres://\(user)@\(host ?? ""):\(port)/\(database)" }

    static func parse(_ url: String) throws(PostgresStoreError) -> PostgresLocation {
        guard let components = URLComponents(string: url), components.scheme == "postgres" || components.scheme == "postgresql" else {
            throw .badURL(url, "expected postgres://user@host:port/database")
        }
        guard components.password == nil else {
            // The error names the URL with the password masked: it must not reach a log line.
            var masked = components
            masked.password = "***"
            masked.query = nil
            throw .badURL(masked.string ?? "postgres://", "a password does not belong in the URL: use PGPASSFILE")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let socketDirectory = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        let host = socketDirectory == nil ? (components.host.flatMap { $0.isEmpty ? nil : $0 } ?? query["host"]) : nil
        guard host != nil || socketDirectory != nil else { throw .badURL(url, "no host (or ?host=/socket/directory)") }
        let port = components.port ?? query["port"].flatMap(Int.init) ?? 5432
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw .badURL(url, "no database name after the host") }
        let user = components.user ?? ProcessInfo.processInfo.environment["USER"] ?? "writebackd"
        let local = socketDirectory != nil || ["127.0.0.1", "::1", "localhost"].contains(host ?? "") || (host ?? "").hasPrefix("127.")
        let tls: TLSMode
        if let mode = query["sslmode"] {
            guard let m = TLSMode(rawValue: mode) else { throw .badURL(url, "sslmode must be disable, require or verify-full") }
            tls = m
        } else {
            tls = local ? .disable : .verifyFull
        }
        if tls == .disable && !local { throw .badURL(url, "sslmode=disable is allowed only for loopback or a Unix socket") }
        return PostgresLocation(user: user, host: host, socketDirectory: socketDirectory, port: port, database: database,
                                tls: tls, rootCertificate: query["sslrootcert"])
    }

    /// The client configuration, with the password from `PGPASSFILE` when it has a matching line.
    func clientConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws(PostgresStoreError) -> PostgresClient.Configuration {
        let password = try environment["PGPASSFILE"].flatMap { path throws(PostgresStoreError) in try Self.passfilePassword(path, for: self) }
        var config: PostgresClient.Configuration
        if let socketDirectory {
            config = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            var tlsConfig = TLSConfiguration.makeClientConfiguration()
            switch tls {
            case .disable: break
            case .require: tlsConfig.certificateVerification = .noHostnameVerification
            case .verifyFull: tlsConfig.certificateVerification = .fullVerification
            }
            if let rootCertificate {
                do { tlsConfig.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificate)) } catch {
                    throw .badURL(display, "sslrootcert \(rootCertificate): \(error)")
                }
            }
            config = .init(host: host ?? "127.0.0.1", port: port, username: user, password: password, database: database,
                           tls: tls == .disable ? .disable : .require(tlsConfig))
        }
        config.options.maximumConnections = 8
        config.options.connectTimeout = .seconds(10)
        return config
    }

    /// One connection of its own (the LISTEN connection), with the same address, TLS and
    /// password rules as the pool's.
    func connectionConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws(PostgresStoreError) -> PostgresConnection.Configuration {
        let password = try environment["PGPASSFILE"].flatMap { path throws(PostgresStoreError) in try Self.passfilePassword(path, for: self) }
        var config: PostgresConnection.Configuration
        if let socketDirectory {
            config = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else if tls == .disable {
            config = .init(host: host ?? "127.0.0.1", port: port, username: user, password: password, database: database, tls: .disable)
        } else {
            var tlsConfig = TLSConfiguration.makeClientConfiguration()
            tlsConfig.certificateVerification = tls == .require ? .noHostnameVerification : .fullVerification
            do {
                if let rootCertificate { tlsConfig.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificate)) }
                config = .init(host: host ?? "127.0.0.1", port: port, username: user, password: password, database: database,
                               tls: .require(try NIOSSLContext(configuration: tlsConfig)))
            } catch {
                throw .badURL(display, "TLS: \(error)")
            }
        }
        config.options.connectTimeout = .seconds(10)
        return config
    }

    /// libpq's passfile: `hostname:port:database:username:password`, `*` matches anything,
    /// `\:` and `\\` escaped. The first matching line wins; none: no password.
    static func passfilePassword(_ path: String, for location: PostgresLocation) throws(PostgresStoreError) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .passfile(path, "cannot be read") }
        let hostName = location.socketDirectory == nil ? (location.host ?? "") : "localhost"
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            var fields: [String] = [], current = "", escaped = false
            for ch in line {
                if escaped { current.append(ch); escaped = false } else if ch == "\\" { escaped = true } else if ch == ":" && fields.count < 4 {
                    fields.append(current); current = ""
                } else { current.append(ch) }
            }
            fields.append(current)
            guard fields.count == 5 else { continue }
            let wanted = [hostName, String(location.port), location.database, location.user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }
}
