import Foundation
import Crypto
import WritebackCore

/// One request ready to insert into `reset_requests`: the three columns a producer writes.
public struct SignedRequest: Sendable, Hashable {
    public var id: String
    /// The exact bytes the signature covers (UTF-8 JSON); store them unchanged as TEXT.
    public var payload: Data
    /// base64 of the 64-byte Ed25519 signature over `payload`.
    public var signature: String
    public var payloadText: String { String(decoding: payload, as: UTF8.self) }
}

/// The producer side of the codec (the executable specification `writebackctl enqueue`
/// runs): seals passwords to the daemon's X25519 key with HPKE base mode
/// (X25519-HKDF-SHA256, ChaCha20-Poly1305, info `writebackd/v1/<id>/<field>`), lays out the
/// payload and signs its bytes with the producer's Ed25519 key.
public struct RequestSealer: Sendable {
    public static let ciphersuite = HPKE.Ciphersuite.Curve25519_SHA256_ChachaPoly

    /// The HPKE info binding a sealed value to one request and one field.
    public static func info(requestID: String, field: String) -> Data {
        Data("writebackd/v1/\(requestID)/\(field)".utf8)
    }

    private let sealingKey: Curve25519.KeyAgreement.PublicKey
    private let signingKey: Curve25519.Signing.PrivateKey

    public init(sealingPublicKey: Curve25519.KeyAgreement.PublicKey, signingKey: Curve25519.Signing.PrivateKey) {
        self.sealingKey = sealingPublicKey
        self.signingKey = signingKey
    }

    /// Loads `[keys] sealing_public_key` and the producer's signing key (both PEM).
    public init(sealingPublicKeyPath: String, signingKeyPath: String) throws(KeyFileError) {
        self.init(sealingPublicKey: try PEMKeys.sealingPublicKey(path: sealingPublicKeyPath),
                  signingKey: try PEMKeys.signingPrivateKey(path: signingKeyPath))
    }

    /// Seals `password` for `field` (`new_password` / `old_password`) of request `requestID`.
    public func seal(_ password: Secret, requestID: String, field: String) throws -> SealedValue {
        var sender = try HPKE.Sender(recipientKey: sealingKey, ciphersuite: Self.ciphersuite,
                                     info: Self.info(requestID: requestID, field: field))
        let ct = try password.withBytes { try sender.seal($0) }
        return SealedValue(enc: sender.encapsulatedKey, ct: ct)
    }

    /// base64 of the Ed25519 signature over exactly `payload`.
    public func sign(_ payload: Data) throws -> String {
        try signingKey.signature(for: payload).base64EncodedString()
    }

    /// Seals the passwords the request's kind needs, serialises and signs.
    public func build(_ request: RequestBuilder, newPassword: Secret?, oldPassword: Secret? = nil) throws -> SignedRequest {
        let newSealed = try newPassword.map { try seal($0, requestID: request.id, field: "new_password") }
        let oldSealed = try oldPassword.map { try seal($0, requestID: request.id, field: "old_password") }
        let payload = request.json(newPassword: newSealed, oldPassword: oldSealed).serialized()
        return SignedRequest(id: request.id, payload: payload, signature: try sign(payload))
    }

    /// Signs arbitrary bytes as a row (tests: hostile payloads with a valid signature).
    public func signRaw(id: String, payload: Data) throws -> SignedRequest {
        SignedRequest(id: id, payload: payload, signature: try sign(payload))
    }
}
