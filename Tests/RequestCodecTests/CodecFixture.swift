import Crypto
import Foundation
import RequestCodec
import WritebackCore

/// Keys, a sealer, a verifier and an opener made fresh for each test, plus a known-good
/// request to derive hostile variants from. Passwords are generated at test time.
struct CodecFixture {
    let signing = Curve25519.Signing.PrivateKey()
    let sealing = Curve25519.KeyAgreement.PrivateKey()
    let now = Date()
    var sealer: RequestSealer { RequestSealer(sealingPublicKey: sealing.publicKey, signingKey: signing) }
    var verifier: RequestVerifier { RequestVerifier(publicKeys: [signing.publicKey]) }
    var opener: PasswordOpener { PasswordOpener(privateKey: sealing) }

    static func randomPassword() -> String {
        "Pw-" + UUID().uuidString.prefix(12) + "!a1"
    }

    func builder(_ kind: RequestKind = .reset, initiator: Initiator = .user) -> RequestBuilder {
        RequestBuilder(kind: kind, user: "alice", initiator: initiator,
                       verification: Verification(methodsPassed: ["email"], registeredMethods: ["email", "mobile_phone"],
                                                  registrationConfirmedAt: now.addingTimeInterval(-86_400)),
                       ttl: 600, now: now)
    }

    /// A good request's JSON (sealed fields for its kind) and its id.
    func goodJSON(_ kind: RequestKind = .reset) throws -> (id: String, json: JSONValue) {
        let b = builder(kind)
        let new = kind == .unlock ? nil : try sealer.seal(Secret(Self.randomPassword()), requestID: b.id, field: "new_password")
        let old = kind == .change ? try sealer.seal(Secret(Self.randomPassword()), requestID: b.id, field: "old_password") : nil
        return (b.id, b.json(newPassword: new, oldPassword: old))
    }

    func verify(id: String, payload: Data, signature: String? = nil) throws -> Result<ResetRequest, RequestRejection> {
        let sig = try signature ?? sealer.sign(payload)
        return verifier.verify(rowID: id, payload: payload, signature: sig, now: now)
    }
}

extension Result where Failure == RequestRejection {
    var outcome: Outcome? { if case .failure(let r) = self { r.outcome } else { nil } }
    var request: Success? { if case .success(let s) = self { s } else { nil } }
}
