import Foundation
import LDAPDirectory
import WritebackConfig
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// The directory checks of `writebackctl doctor`, per URI: reachable (TCP connect or the ldapi
/// socket), TLS verifies with `ca_file`, the service account binds; then, on the first URI that
/// binds, the service account's rights (`DoctorRights`) and the configured groups (`DoctorGroups`). Each failure says what to change.
enum DoctorDirectory {
    static func run(_ config: Configuration) async -> [DoctorCheck] {
        let d = config.directory
        var out: [DoctorCheck] = []
        let bind: LDAPBind
        switch bindCredentials(d) {
        case .ready(let b): bind = b
        case .notTried(let check): return [check]
        }
        var rightsChecked = false
        for text in d.uris {
            guard case .success(let uri) = LDAPURI.parse(text) else { continue }
            let reach = reachable(uri, timeout: min(d.timeoutSeconds, 5))
            out.append(reach)
            guard reach.ok else { continue }

            let usesTLS = uri.scheme == .ldaps || (uri.scheme == .ldap && d.startTLS)
            let settings = ConnectionSettings(uris: [text], startTLS: d.startTLS, caFile: d.caFile, bind: bind, timeout: d.timeoutSeconds)
            let pool = LDAPPool(settings: settings, connections: 1)
            do {
                let root = try await pool.withHandle { h throws(LDAPError) in try h.rootDSE(attributes: ["supportedControl", "namingContexts"]) }
                _ = root
                out.append(tlsPass(text, usesTLS: usesTLS, d))
                out.append(.pass("directory \(text) bind", "bound as \(identity(d))"))
                if !rightsChecked {
                    rightsChecked = true
                    out += await DoctorRights.run(pool: pool, config: d)
                    out += await DoctorGroups.run(pool: pool, config: config)
                }
            } catch {
                // ldaps:// handshakes lazily, inside the bind: a -1/-11 there is the TLS (or
                // connection) failure too, since the TCP probe just succeeded.
                let transport = error.phase == .connect || error.code == LDAPCode.serverDown || error.code == LDAPCode.connectError
                switch transport ? LDAPError.Phase.connect : error.phase {
                case .connect:
                    if usesTLS {
                        out.append(.fail("directory \(text) tls", "TLS failed: \(error.message) (\(error.code))",
                                         fix: d.caFile == nil
                                            ? "set [directory] ca_file to the CA that signed the server's certificate (the system store does not trust it), and make sure the host in uri matches the certificate's name or IP SAN"
                                            : "ca_file \(d.caFile!) must be the CA that signed the server's certificate, and the host in uri must match the certificate's name or IP SAN (e.g. 127.0.0.1, not localhost)"))
                    } else {
                        out.append(.fail("directory \(text) connect", "\(error.message) (\(error.code))", fix: "check that the server speaks LDAP on this port"))
                    }
                case .bind, .operation:
                    out.append(tlsPass(text, usesTLS: usesTLS, d))
                    out.append(bindFailure(text, error, d))
                }
            }
            await pool.shutdown()
        }
        return out
    }

    static func identity(_ d: DirectoryConfig) -> String {
        switch d.bindMethod {
        case .simple: return d.bindDN ?? "?"
        case .external: return "SASL EXTERNAL (this process's uid)"
        case .gssapi: return "GSSAPI (keytab \(d.keytab ?? "?"))"
        }
    }

    private static func tlsPass(_ text: String, usesTLS: Bool, _ d: DirectoryConfig) -> DoctorCheck {
        if usesTLS {
            return .pass("directory \(text) tls", "certificate verified with \(d.caFile ?? "the system trust store")")
        }
        let why = text.lowercased().hasPrefix("ldapi://") ? "ldapi: local socket, no TLS needed"
            : d.bindMethod == .gssapi ? "no TLS: GSSAPI seals the connection" : "no TLS: plain loopback allowed by allow_plain_loopback"
        return .pass("directory \(text) tls", why)
    }

    private static func bindFailure(_ text: String, _ e: LDAPError, _ d: DirectoryConfig) -> DoctorCheck {
        let name = "directory \(text) bind"
        switch e.code {
        case LDAPCode.invalidCredentials:
            if e.message.contains("data 775") {
                return .fail(name, "the service account is locked out (AD data 775)", fix: "unlock \(identity(d)) and look for what keeps binding with an old password")
            }
            return .fail(name, "invalid credentials (49) for \(identity(d))",
                         fix: "check bind_dn and the password in bind_password_file (exactly one trailing newline is dropped, nothing else), and that the account is not locked or expired")
        case LDAPCode.strongAuthRequired:
            return .fail(name, "the server requires a stronger (encrypted) bind (8): \(e.message)", fix: "use ldaps:// or start_tls = true")
        case LDAPCode.insufficientAccess:
            return .fail(name, "bind refused (50): \(e.message)", fix: "allow \(identity(d)) to authenticate (slapd: `by anonymous auth` on userPassword)")
        default:
            return .fail(name, "bind failed: \(e.message) (\(e.code))", fix: d.bindMethod == .gssapi
                         ? "check the keytab's principal (klist -k), /etc/krb5.conf and that the DC has an ldap/ SPN"
                         : "check bind_method and bind_dn")
        }
    }

    /// The bind credentials, read the way the daemon reads them (credential sources when the
    /// service is not running).
    enum Credentials { case ready(LDAPBind), notTried(DoctorCheck) }

    static func bindCredentials(_ d: DirectoryConfig) -> Credentials {
        switch d.bindMethod {
        case .simple:
            let path = DoctorFiles.resolve(d.bindPasswordFile ?? "").path
            do {
                return .ready(.simple(dn: d.bindDN ?? "", password: try SecretFile.read(path: path)))
            } catch {
                return .notTried(.fail("directory bind", "not tried: \(error.description)", fix: "fix directory.bind_password_file first"))
            }
        case .external:
            return .ready(.external)
        case .gssapi:
            let path = DoctorFiles.resolve(d.keytab ?? "").path
            setenv("KRB5_CLIENT_KTNAME", path, 1)
            setenv("KRB5CCNAME", "MEMORY:writebackd-doctor", 1)
            return .ready(.gssapi)
        }
    }

    /// TCP connect (or the ldapi socket) within `timeout` seconds.
    static func reachable(_ uri: LDAPURI, timeout: Double) -> DoctorCheck {
        let name = "directory \(uri.text) reachable"
        if uri.scheme == .ldapi {
            let path = uri.socketPath.isEmpty ? "/var/run/slapd/ldapi" : uri.socketPath
            switch SocketProbe.unix(path: path) {
            case nil: return .pass(name, "ldapi socket \(path) accepts connections")
            case let reason?: return .fail(name, "ldapi socket \(path): \(reason)", fix: "start slapd with -h \"ldapi://…\" and check the socket path (percent-encoded in the URI)")
            }
        }
        switch SocketProbe.tcp(host: uri.host, port: uri.port, timeout: timeout) {
        case nil: return .pass(name, "TCP \(uri.host):\(uri.port) accepts connections")
        case let reason?:
            return .fail(name, "TCP \(uri.host):\(uri.port): \(reason)",
                         fix: "check the host and port, that the directory server runs, and firewalls (and IPAddressAllow= in writebackd.service)")
        }
    }
}
