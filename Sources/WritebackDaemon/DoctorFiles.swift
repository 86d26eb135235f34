import Foundation
import RequestCodec
import WritebackConfig
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// The file checks of `writebackctl doctor`: keys (present, readable, private keys 0600 or
/// stricter, parse as PEM, sealing pair matches), the bind password or keytab, the CA, policy
/// lists. Paths under `/run/credentials/writebackd.service/` exist only while the service runs;
/// then the `LoadCredential=` source in `/etc/writebackd/credentials/` is checked instead.
enum DoctorFiles {
    static let credentialsDir = "/run/credentials/writebackd.service/"
    static let credentialSources = "/etc/writebackd/credentials/"

    /// The path to inspect, and a note when it is the credential's source.
    static func resolve(_ path: String) -> (path: String, note: String) {
        if path.hasPrefix(credentialsDir), !FileManager.default.fileExists(atPath: path) {
            let source = credentialSources + path.dropFirst(credentialsDir.count)
            if FileManager.default.fileExists(atPath: source) {
                return (source, " (service not running: checked the LoadCredential= source \(source))")
            }
        }
        return (path, "")
    }

    /// nil when `path` exists and can be opened for reading; else a failed check.
    static func readable(_ name: String, _ path: String, what: String) -> DoctorCheck? {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            var fix = "create it, or correct the path in the configuration"
            if path.hasPrefix(credentialsDir) {
                fix = "put the file at \(credentialSources)\(path.dropFirst(credentialsDir.count)) (root, 0600) and keep the matching LoadCredential= line in writebackd.service"
            }
            return .fail(name, "\(what) \(path): \(reason)", fix: fix)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return .fail(name, "\(what) \(path) is not readable: \(String(cString: strerror(errno)))",
                         fix: "run doctor as root, or give the daemon's user read access")
        }
        close(fd)
        return nil
    }

    /// nil when no group or other permission bits are set; else a failed check naming the mode.
    static func privateMode(_ name: String, _ path: String, what: String) -> DoctorCheck? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let mode = st.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            return .fail(name, "\(what) \(path) has mode \(String(mode, radix: 8, uppercase: false).leftPadded(4)): readable by others",
                         fix: "chmod 600 \(path)")
        }
        return nil
    }

    static func keys(_ config: Configuration) -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        for (i, original) in config.keys.producerPublicKeys.enumerated() {
            let name = "keys.producer_public_keys[\(i)]"
            let (path, note) = resolve(original)
            if let f = readable(name, path, what: "producer public key") { out.append(f); continue }
            do {
                _ = try PEMKeys.signingPublicKey(path: path)
                out.append(.pass(name, "\(path): Ed25519 public key (PEM)\(note)"))
            } catch {
                out.append(.fail(name, error.description, fix: "use the producer-signing.pub made by `writebackctl keygen` or `openssl pkey -pubout` of the portal's Ed25519 key"))
            }
        }
        var privateKey: Curve25519KeyAgreementPublicBytes? = nil
        do {
            let name = "keys.sealing_private_key"
            let (path, note) = resolve(config.keys.sealingPrivateKey)
            if let f = readable(name, path, what: "sealing private key") { out.append(f) }
            else if let f = privateMode(name, path, what: "sealing private key") { out.append(f) }
            else {
                do {
                    let key = try PEMKeys.sealingPrivateKey(path: path)
                    privateKey = Curve25519KeyAgreementPublicBytes(key.publicKey.rawRepresentation)
                    out.append(.pass(name, "\(path): X25519 private key (PEM), private mode\(note)"))
                } catch {
                    out.append(.fail(name, error.description, fix: "use daemon-sealing.key from `writebackctl keygen` (PKCS#8 PEM, as `openssl genpkey -algorithm x25519` writes)"))
                }
            }
        }
        do {
            let name = "keys.sealing_public_key"
            let (path, note) = resolve(config.keys.sealingPublicKey)
            if let f = readable(name, path, what: "sealing public key") { out.append(f) }
            else {
                do {
                    let key = try PEMKeys.sealingPublicKey(path: path)
                    if let privateKey, privateKey.bytes != Array(key.rawRepresentation) {
                        out.append(.fail(name, "\(path) is not the public half of sealing_private_key: portals would seal passwords the daemon cannot open",
                                         fix: "copy the daemon-sealing.pub made together with the private key (or `openssl pkey -in KEY -pubout`)"))
                    } else {
                        out.append(.pass(name, "\(path): X25519 public key (PEM)\(privateKey == nil ? "" : ", matches the private key")\(note)"))
                    }
                } catch {
                    out.append(.fail(name, error.description, fix: "use daemon-sealing.pub from `writebackctl keygen`"))
                }
            }
        }
        return out
    }

    /// Bind password (simple) or keytab (gssapi), and the CA file.
    static func credentials(_ d: DirectoryConfig) -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        switch d.bindMethod {
        case .simple:
            let name = "directory.bind_password_file"
            let (path, note) = resolve(d.bindPasswordFile ?? "")
            if let f = readable(name, path, what: "bind password file") { out.append(f) }
            else if let f = privateMode(name, path, what: "bind password file") { out.append(f) }
            else {
                do {
                    let secret = try SecretFile.read(path: path)
                    out.append(.pass(name, "\(path): \(secret.count) bytes, private mode\(note)"))
                } catch {
                    out.append(.fail(name, error.description, fix: "write the service account's password into the file (one trailing newline is dropped)"))
                }
            }
        case .gssapi:
            let name = "directory.keytab"
            let (path, note) = resolve(d.keytab ?? "")
            if let f = readable(name, path, what: "keytab") { out.append(f) }
            else if let f = privateMode(name, path, what: "keytab") { out.append(f) }
            else { out.append(.pass(name, "\(path): readable, private mode\(note)")) }
        case .external:
            out.append(.pass("directory.bind", "SASL EXTERNAL over ldapi: no secret file"))
        }
        if let ca = d.caFile {
            let name = "directory.ca_file"
            if let f = readable(name, ca, what: "CA file") { out.append(f) }
            else if let text = try? String(contentsOfFile: ca, encoding: .utf8), text.contains("-----BEGIN CERTIFICATE-----") {
                let count = text.components(separatedBy: "-----BEGIN CERTIFICATE-----").count - 1
                out.append(.pass(name, "\(ca): \(count) PEM certificate\(count == 1 ? "" : "s")"))
            } else {
                out.append(.fail(name, "\(ca) holds no PEM certificate", fix: "give the PEM (-----BEGIN CERTIFICATE-----) of the CA that signed the directory's certificate"))
            }
        }
        return out
    }

    /// Banned and breached lists, templates.
    static func policyFiles(_ config: Configuration) -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        for (key, path) in [("policy.banned_passwords_file", config.policy.bannedPasswordsFile),
                            ("policy.breached_sha1_file", config.policy.breachedSHA1File)] where !path.isEmpty {
            if let f = readable(key, path, what: "list") { out.append(f) } else { out.append(.pass(key, "\(path): readable")) }
        }
        if !config.outbox.templatesDir.isEmpty {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: config.outbox.templatesDir, isDirectory: &isDir), isDir.boolValue {
                out.append(.pass("outbox.templates_dir", "\(config.outbox.templatesDir): a directory"))
            } else {
                out.append(.fail("outbox.templates_dir", "\(config.outbox.templatesDir) is not a directory", fix: "create it or set templates_dir = \"\""))
            }
        }
        return out
    }
}

/// Raw X25519 public key bytes, to compare two keys without exposing a private key.
struct Curve25519KeyAgreementPublicBytes {
    let bytes: [UInt8]
    init(_ data: Data) { bytes = Array(data) }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
