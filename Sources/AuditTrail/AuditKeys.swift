import Crypto
import Foundation
import RequestCodec

/// `writebackctl keygen --audit`: the audit signing pair. The private key goes to the daemon
/// (`[audit] signing_key`, mode 0600, like the sealing key); the public key to the auditors,
/// who run `writebackctl audit verify --key audit-signing.pub` away from the daemon's host.
public enum AuditKeys {
    public static let privateName = "audit-signing.key"
    public static let publicName = "audit-signing.pub"

    /// Writes both files into `directory` (created 0700 if missing); refuses to overwrite.
    /// Returns their paths.
    public static func generate(into directory: String) throws(KeyFileError) -> (privateKey: String, publicKey: String) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if !fm.fileExists(atPath: directory, isDirectory: &isDir) {
            do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
                throw .unreadable(path: directory, reason: "cannot create directory")
            }
        } else if !isDir.boolValue {
            throw .unreadable(path: directory, reason: "not a directory")
        }
        let priv = directory + "/" + privateName, pub = directory + "/" + publicName
        for path in [priv, pub] where fm.fileExists(atPath: path) {
            throw .unreadable(path: path, reason: "exists; refusing to overwrite")
        }
        let key = Curve25519.Signing.PrivateKey()
        func pem(_ s: String) -> String { s.hasSuffix("\n") ? s : s + "\n" }
        try PEMKeys.writeExclusive(path: priv, contents: pem(key.pemRepresentation), mode: 0o600)
        try PEMKeys.writeExclusive(path: pub, contents: pem(key.publicKey.pemRepresentation), mode: 0o644)
        return (priv, pub)
    }
}
