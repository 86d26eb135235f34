import AuditTrail
import Foundation
import RequestCodec
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// The audit trail's checks in `writebackctl doctor`: the signing key (readable, 0600 or
/// stricter, an Ed25519 private key; its key id, which auditors compare with the public key
/// they hold), and the trail's directory (the daemon appends there; an existing trail's last
/// line must be an audit line, or the daemon refuses to start).
enum DoctorAudit {
    static func run(_ config: AuditConfig) -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        let keyName = "audit.signing_key"
        if config.signingKey.isEmpty {
            out.append(.pass(keyName, "not set: the trail is hash-chained but not signed (set it to a key from `writebackctl keygen --audit`)"))
        } else {
            let (path, note) = DoctorFiles.resolve(config.signingKey)
            if let f = DoctorFiles.readable(keyName, path, what: "audit signing key") { out.append(f) }
            else if let f = DoctorFiles.privateMode(keyName, path, what: "audit signing key") { out.append(f) }
            else {
                do {
                    let key = try PEMKeys.signingPrivateKey(path: path)
                    out.append(.pass(keyName, "\(path): Ed25519 private key, key id \(AuditChain.keyID(key.publicKey))\(note)"))
                } catch {
                    out.append(.fail(keyName, error.description, fix: "use the audit-signing.key made by `writebackctl keygen --audit`"))
                }
            }
        }
        out.append(trail(config.path))
        return out
    }

    static func trail(_ path: String) -> DoctorCheck {
        let name = "audit.path"
        let dir = (path as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: path) else {
            if access(dir, W_OK) == 0 { return .pass(name, "\(path) does not exist yet; the daemon creates it at start") }
            if dir == "/var/lib/writebackd" { return .pass(name, "\(path) does not exist yet; systemd creates \(dir) at start (StateDirectory=writebackd)") }
            return .fail(name, "\(dir) is not a writable directory", fix: "mkdir -p \(dir) && chown writebackd \(dir), or set [audit] path")
        }
        guard access(path, R_OK | W_OK) == 0 else {
            return .fail(name, "\(path) is not readable and writable: \(String(cString: strerror(errno)))", fix: "chown writebackd \(path)")
        }
        return .pass(name, "\(path): appended to by the daemon; check it with `writebackctl audit verify \(path) --key audit-signing.pub`")
    }
}
