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
        let key = Curve25519.Signing.PrivateKey()
        try PEMKeys.writeNew([(privateName, key.pemRepresentation, 0o600), (publicName, key.publicKey.pemRepresentation, 0o644)],
                             into: directory)
        let priv = directory + "/" + privateName, pub = directory + "/" + publicName
        return (priv, pub)
    }
}
