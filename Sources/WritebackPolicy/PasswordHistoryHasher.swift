import _CryptoExtras
import Crypto
import Foundation
import WritebackCore

/// The daemon's own password history: salted scrypt hashes of the passwords it set.
///
/// It exists because neither directory enforces history on the resets writebackd performs
/// (ppolicy lets a password administrator skip it; Samba does not take the policy-hints
/// control), so the daemon remembers, per user, hashes of the last `history_count` passwords,
/// in its own state store. One random salt per user, shared by that user's entries, so a check
/// costs one derivation however long the history is (DESIGN.md). scrypt N=2^15, r=8, p=1
/// (32 MiB, ≈ 0.1 s in a release build): slow enough that a stolen state file does not give
/// the passwords away cheaply.
///
/// The API is synchronous and CPU-bound on purpose: the daemon calls it on threads of its own,
/// never on Swift's cooperative pool.
public struct PasswordHistoryHasher: Sendable {
    /// Why a derivation failed (parameters the KDF refuses, or an allocation failure).
    public enum HashError: Error, Sendable, Hashable, CustomStringConvertible {
        case derivationFailed(String)
        case badSaltLength(Int)
        public var description: String {
            switch self {
            case .derivationFailed(let reason): "scrypt derivation failed: \(reason)"
            case .badSaltLength(let n): "history salt must be at least 16 bytes, got \(n)"
            }
        }
    }

    /// log2 of scrypt's N.
    public let logN: Int
    public let blockSize: Int
    public let parallelism: Int
    public let outputByteCount: Int
    public static let saltByteCount = 16

    /// The production parameters: N=2^15, r=8, p=1, 32 bytes. Tests may lower `logN`.
    public init(logN: Int = 15, blockSize: Int = 8, parallelism: Int = 1, outputByteCount: Int = 32) {
        self.logN = logN; self.blockSize = blockSize; self.parallelism = parallelism; self.outputByteCount = outputByteCount
    }

    /// A fresh random per-user salt (16 bytes from the system CSPRNG).
    public static func makeSalt() -> Data {
        var g = SystemRandomNumberGenerator()
        return Data((0..<saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &g) })
    }

    /// scrypt(password, salt).
    public func derive(password: Secret, salt: Data) throws(HashError) -> Data {
        guard salt.count >= Self.saltByteCount else { throw .badSaltLength(salt.count) }
        do {
            let key = try password.withBytes { bytes in
                try KDF.Scrypt.deriveKey(from: UnsafeRawBufferPointer(bytes), salt: salt, outputByteCount: outputByteCount,
                                         rounds: 1 << logN, blockSize: blockSize, parallelism: parallelism)
            }
            return key.withUnsafeBytes { Data($0) }
        } catch {
            throw .derivationFailed(String(describing: error))
        }
    }

    /// Whether `password` is one of `record`'s hashes. One derivation; every stored hash is
    /// compared in constant time, and all of them are compared.
    public func isInHistory(password: Secret, record: PasswordHistoryRecord?) throws(HashError) -> Bool {
        guard let record, !record.hashes.isEmpty else { return false }
        let candidate = try derive(password: password, salt: record.salt)
        var found = false
        for stored in record.hashes where LDAPPasswordHash.constantTimeEquals(candidate, stored) { found = true }
        return found
    }

    /// What to store after a successful write: the user's existing salt (or a new one for a
    /// user without history) and the new password's hash under it.
    public func entry(for password: Secret, existing: PasswordHistoryRecord?) throws(HashError) -> (salt: Data, hash: Data) {
        let salt = existing?.salt ?? Self.makeSalt()
        return (salt, try derive(password: password, salt: salt))
    }
}
