import Foundation
import Crypto
import WritebackCore

/// Opens HPKE-sealed fields with the daemon's X25519 private key. The info string binds a
/// sealed value to its request and field: `writebackd/v1/<id>/<field>`.
public struct PasswordOpener: Sendable {
    private let privateKey: Curve25519.KeyAgreement.PrivateKey

    /// Loads `[keys] sealing_private_key` (PEM PKCS#8 X25519). Throws `KeyFileError`.
    public init(privateKeyPath: String) throws {
        privateKey = try PEMKeys.sealingPrivateKey(path: privateKeyPath)
    }

    public init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    /// `field` is `new_password` or `old_password`. Any failure is an `invalid_request`.
    public func open(_ sealed: SealedValue, requestID: String, field: String) throws(RequestRejection) -> Secret {
        let failure = RequestRejection(Outcome(.invalidRequest, detail: "\(field): cannot be opened"))
        var plaintext: Data
        do {
            var recipient = try HPKE.Recipient(
                privateKey: privateKey, ciphersuite: RequestSealer.ciphersuite,
                info: RequestSealer.info(requestID: requestID, field: field), encapsulatedKey: sealed.enc)
            plaintext = try recipient.open(sealed.ct)
        } catch {
            // A wrong info throws a CoreCrypto error, a bad tag authenticationFailure: one outcome.
            throw failure
        }
        defer { plaintext.resetBytes(in: 0..<plaintext.count) }
        guard String(validating: plaintext, as: UTF8.self) != nil, !plaintext.contains(0) else {
            throw RequestRejection(Outcome(.invalidRequest, detail: "\(field): not UTF-8 text"))
        }
        return Secret(bytes: plaintext)
    }
}
