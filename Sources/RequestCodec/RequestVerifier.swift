import Foundation
import Crypto
import WritebackCore

/// Turns an untrusted queue row into a `ResetRequest`: size, signature (every configured
/// producer key), strict payload v1 decoding, id match, expiry. Anything wrong is an `Outcome`
/// (`invalid_request` with the field in `detail`, or `expired`); replay is the caller's check.
public struct RequestVerifier: Sendable {
    private let keys: [Curve25519.Signing.PublicKey]

    /// Loads the producer public keys (PEM) named in `[keys] producer_public_keys`.
    /// Throws `KeyFileError` naming the first file that cannot be used.
    public init(keys: KeysConfig) throws {
        guard !keys.producerPublicKeys.isEmpty else { throw KeyFileError.noKeys }
        var loaded: [Curve25519.Signing.PublicKey] = []
        for path in keys.producerPublicKeys {
            loaded.append(try PEMKeys.signingPublicKey(path: path))
        }
        self.keys = loaded
    }

    /// For tests and tools that hold the keys already.
    public init(publicKeys: [Curve25519.Signing.PublicKey]) {
        self.keys = publicKeys
    }

    public func verify(rowID: String, payload: Data, signature: String, now: Date) -> Result<ResetRequest, RequestRejection> {
        do throws(RequestRejection) {
            return .success(try check(rowID: rowID, payload: payload, signature: signature, now: now))
        } catch {
            return .failure(error)
        }
    }

    private func check(rowID: String, payload: Data, signature: String, now: Date) throws(RequestRejection) -> ResetRequest {
        guard payload.count <= PayloadV1.maxBytes else { throw PayloadV1.invalid("payload", "larger than \(PayloadV1.maxBytes) bytes") }
        guard signature.utf8.count <= 128, let raw = Data(base64Encoded: signature), raw.count == 64 else {
            throw PayloadV1.invalid("signature", "not base64 of a 64-byte Ed25519 signature")
        }
        // The signature covers exactly the stored bytes; nothing is parsed before it verifies.
        guard keys.contains(where: { $0.isValidSignature(raw, for: payload) }) else {
            throw PayloadV1.invalid("signature", "does not verify with any configured producer key")
        }
        let request = try PayloadV1.decode(payload)
        guard request.id == rowID else { throw PayloadV1.invalid("id", "does not match the row id") }
        guard request.expiresAt > now else { throw RequestRejection(Outcome(.expired)) }
        return request
    }
}

/// Why a row was refused before anything else was looked at.
public struct RequestRejection: Error, Sendable, Hashable {
    public var outcome: Outcome
    public init(_ outcome: Outcome) { self.outcome = outcome }
}
