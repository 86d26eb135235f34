import Foundation
import Crypto
import _CryptoExtras

/// Why a key file could not be used. Names the file, never its contents.
public enum KeyFileError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case wrongFormat(path: String, expected: String)
    case noKeys

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read key file (\(reason))"
        case .wrongFormat(let path, let expected): "\(path): not a PEM \(expected) (as `openssl genpkey` writes it)"
        case .noKeys: "[keys] producer_public_keys: no key configured"
        }
    }
}

/// Loading and writing the four key files of DESIGN.md ("keygen"): PEM, PKCS#8 for private
/// keys and SubjectPublicKeyInfo for public keys, the form openssl writes, so keys from
/// `openssl genpkey -algorithm ed25519|x25519` work too.
public enum PEMKeys {
    static func read(_ path: String) throws(KeyFileError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
    }

    public static func signingPublicKey(path: String) throws(KeyFileError) -> Curve25519.Signing.PublicKey {
        let pem = try read(path)
        do { return try Curve25519.Signing.PublicKey(pemRepresentation: pem) } catch { throw .wrongFormat(path: path, expected: "Ed25519 public key") }
    }

    public static func signingPrivateKey(path: String) throws(KeyFileError) -> Curve25519.Signing.PrivateKey {
        let pem = try read(path)
        do { return try Curve25519.Signing.PrivateKey(pemRepresentation: pem) } catch { throw .wrongFormat(path: path, expected: "Ed25519 private key") }
    }

    public static func sealingPublicKey(path: String) throws(KeyFileError) -> Curve25519.KeyAgreement.PublicKey {
        let pem = try read(path)
        do { return try Curve25519.KeyAgreement.PublicKey(pemRepresentation: pem) } catch { throw .wrongFormat(path: path, expected: "X25519 public key") }
    }

    public static func sealingPrivateKey(path: String) throws(KeyFileError) -> Curve25519.KeyAgreement.PrivateKey {
        let pem = try read(path)
        do { return try Curve25519.KeyAgreement.PrivateKey(pemRepresentation: pem) } catch { throw .wrongFormat(path: path, expected: "X25519 private key") }
    }

    /// The file names `writebackctl keygen` writes.
    public enum FileName {
        public static let producerSigningKey = "producer-signing.key"
        public static let producerSigningPub = "producer-signing.pub"
        public static let daemonSealingKey = "daemon-sealing.key"
        public static let daemonSealingPub = "daemon-sealing.pub"
    }

    /// Generates both key pairs into `directory` (created 0700 if missing). Private keys are
    /// created with mode 0600 from the start (no window in which they are readable); public
    /// keys 0644. Refuses to overwrite an existing file.
    public static func generate(into directory: String) throws(KeyFileError) {
        let signing = Curve25519.Signing.PrivateKey()
        let sealing = Curve25519.KeyAgreement.PrivateKey()
        try writeNew([
            (FileName.producerSigningKey, signing.pemRepresentation, 0o600),
            (FileName.producerSigningPub, signing.publicKey.pemRepresentation, 0o644),
            (FileName.daemonSealingKey, sealing.pemRepresentation, 0o600),
            (FileName.daemonSealingPub, sealing.publicKey.pemRepresentation, 0o644),
        ], into: directory)
    }

    /// Writes PEM files `(name, pem, mode)` into `directory` (created 0700 if missing), each
    /// with its final mode from the start; refuses to overwrite, checking every name before
    /// writing any. Shared by every `keygen` (these pairs, the audit pair).
    public static func writeNew(_ files: [(name: String, pem: String, mode: Int)], into directory: String) throws(KeyFileError) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if !fm.fileExists(atPath: directory, isDirectory: &isDir) {
            do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
                throw .unreadable(path: directory, reason: "cannot create directory")
            }
        } else if !isDir.boolValue {
            throw .unreadable(path: directory, reason: "not a directory")
        }
        for file in files where fm.fileExists(atPath: directory + "/" + file.name) {
            throw .unreadable(path: directory + "/" + file.name, reason: "exists; refusing to overwrite")
        }
        for file in files {
            try writeExclusive(path: directory + "/" + file.name, contents: file.pem.hasSuffix("\n") ? file.pem : file.pem + "\n", mode: file.mode)
        }
    }

    /// O_CREAT|O_EXCL with the final mode, so a private key is never briefly world-readable.
    public static func writeExclusive(path: String, contents: String, mode: Int) throws(KeyFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        _ = fchmod(fd, mode_t(mode))  // umask may have narrowed it; never widens beyond `mode`
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            written += n
        }
        guard fsync(fd) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    }
}
