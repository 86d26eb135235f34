import Crypto
import Foundation
import RequestCodec
import Testing
import WritebackCore

/// Signatures (forged, wrong key, rotation, tampering) and HPKE opening (info binding,
/// tampering, wrong recipient): every failure is `invalid_request`, never a crash.
@Suite("Signatures and sealing")
struct SignatureAndSealingTests {
    @Test("a good reset verifies and its password opens")
    func goodReset() throws {
        let f = CodecFixture()
        let password = CodecFixture.randomPassword()
        var b = f.builder()
        b.licenses = ["AAD_PREMIUM"]; b.mustChangeAtNextLogon = true; b.unlock = false; b.locale = "zh-Hant-TW"
        let row = try f.sealer.build(b, newPassword: Secret(password))
        let request = try #require(f.verifier.verify(rowID: row.id, payload: row.payload, signature: row.signature, now: f.now).request)
        #expect(request.kind == .reset && request.user == "alice" && request.initiator == .user)
        #expect(request.licenses == ["AAD_PREMIUM"] && request.mustChangeAtNextLogon && !request.unlock && request.locale == "zh-Hant-TW")
        #expect(request.verification?.methodsPassed == ["email"])
        #expect(abs(request.expiresAt.timeIntervalSince(f.now) - 600) <= 1)
        let opened = try f.opener.open(try #require(request.newPassword), requestID: row.id, field: "new_password")
        #expect(opened.unsafeString() == password)
        #expect(!row.payloadText.contains(password))
    }

    @Test("change: both passwords open; unlock: none needed; admin: no verification needed")
    func otherKinds() throws {
        let f = CodecFixture()
        let (old, new) = (CodecFixture.randomPassword(), CodecFixture.randomPassword())
        let change = try f.sealer.build(f.builder(.change), newPassword: Secret(new), oldPassword: Secret(old))
        let r = try #require(f.verifier.verify(rowID: change.id, payload: change.payload, signature: change.signature, now: f.now).request)
        #expect(try f.opener.open(r.oldPassword!, requestID: r.id, field: "old_password").unsafeString() == old)
        #expect(try f.opener.open(r.newPassword!, requestID: r.id, field: "new_password").unsafeString() == new)

        let unlock = try f.sealer.build(f.builder(.unlock), newPassword: nil)
        #expect(f.verifier.verify(rowID: unlock.id, payload: unlock.payload, signature: unlock.signature, now: f.now).request?.kind == .unlock)

        var admin = RequestBuilder(kind: .reset, user: "bob", initiator: .admin(name: "helpdesk-7"), now: f.now)
        admin.verification = nil
        let row = try f.sealer.build(admin, newPassword: Secret(CodecFixture.randomPassword()))
        #expect(f.verifier.verify(rowID: row.id, payload: row.payload, signature: row.signature, now: f.now).request?.initiator == .admin(name: "helpdesk-7"))
    }

    @Test("expired is expired, not invalid")
    func expired() throws {
        let f = CodecFixture()
        let row = try f.sealer.build(f.builder(), newPassword: Secret(CodecFixture.randomPassword()))
        let later = f.verifier.verify(rowID: row.id, payload: row.payload, signature: row.signature, now: f.now.addingTimeInterval(601))
        #expect(later.outcome == Outcome(.expired))
    }

    struct SignatureCase: CustomTestStringConvertible, Sendable {
        let name: String
        let signature: @Sendable (SignedRequest) -> String
        let payload: @Sendable (SignedRequest) -> Data
        var testDescription: String { name }
    }

    static let signatureCases: [SignatureCase] = [
        SignatureCase(name: "forged (random bytes)", signature: { _ in Data((0..<64).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() }, payload: \.payload),
        SignatureCase(name: "wrong key", signature: { r in try! Curve25519.Signing.PrivateKey().signature(for: r.payload).base64EncodedString() }, payload: \.payload),
        SignatureCase(name: "empty", signature: { _ in "" }, payload: \.payload),
        SignatureCase(name: "not base64", signature: { _ in "not base64!" }, payload: \.payload),
        SignatureCase(name: "63 bytes", signature: { r in Data(Data(base64Encoded: r.signature)!.prefix(63)).base64EncodedString() }, payload: \.payload),
        SignatureCase(name: "65 bytes", signature: { r in (Data(base64Encoded: r.signature)! + Data([0])).base64EncodedString() }, payload: \.payload),
        SignatureCase(name: "huge", signature: { _ in String(repeating: "A", count: 1 << 20) }, payload: \.payload),
        SignatureCase(name: "payload changed after signing", signature: \.signature, payload: { r in Data(r.payloadText.replacingOccurrences(of: "alice", with: "admin").utf8) }),
        SignatureCase(name: "whitespace added after signing", signature: \.signature, payload: { r in r.payload + Data(" ".utf8) }),
    ]

    @Test("a signature that does not verify is invalid_request/signature", arguments: signatureCases)
    func badSignature(_ c: SignatureCase) throws {
        let f = CodecFixture()
        let row = try f.sealer.build(f.builder(), newPassword: Secret(CodecFixture.randomPassword()))
        let outcome = try #require(f.verifier.verify(rowID: row.id, payload: c.payload(row), signature: c.signature(row), now: f.now).outcome)
        #expect(outcome.code == .invalidRequest)
        #expect(outcome.detail?.hasPrefix("signature: ") == true)
    }

    @Test("key rotation: every configured key is tried; a removed key no longer verifies")
    func rotation() throws {
        let f = CodecFixture()
        let newKey = Curve25519.Signing.PrivateKey()
        let oldRow = try f.sealer.build(f.builder(), newPassword: Secret(CodecFixture.randomPassword()))
        let newSealer = RequestSealer(sealingPublicKey: f.sealing.publicKey, signingKey: newKey)
        let newRow = try newSealer.build(f.builder(), newPassword: Secret(CodecFixture.randomPassword()))
        let both = RequestVerifier(publicKeys: [f.signing.publicKey, newKey.publicKey])
        #expect(both.verify(rowID: oldRow.id, payload: oldRow.payload, signature: oldRow.signature, now: f.now).request != nil)
        #expect(both.verify(rowID: newRow.id, payload: newRow.payload, signature: newRow.signature, now: f.now).request != nil)
        let onlyNew = RequestVerifier(publicKeys: [newKey.publicKey])
        #expect(onlyNew.verify(rowID: oldRow.id, payload: oldRow.payload, signature: oldRow.signature, now: f.now).outcome?.detail?.hasPrefix("signature") == true)
    }

    enum Tamper: String, CaseIterable, Sendable {
        case copiedFromOtherRequest, movedToOtherField, ctBitFlip, ctTruncated, encFromOtherSeal, sealedToOtherDaemon
    }

    @Test("a sealed value that is not for this request and field cannot be opened", arguments: Tamper.allCases)
    func sealedTampering(_ t: Tamper) throws {
        let f = CodecFixture()
        let b = f.builder(.change)
        let secret = Secret(CodecFixture.randomPassword())
        var sealed = try f.sealer.seal(secret, requestID: b.id, field: "new_password")
        var field = "new_password"
        switch t {
        case .copiedFromOtherRequest:
            sealed = try f.sealer.seal(secret, requestID: UUID().uuidString.lowercased(), field: "new_password")
        case .movedToOtherField:
            field = "old_password"
        case .ctBitFlip:
            sealed.ct[sealed.ct.startIndex + 3] ^= 0x01
        case .ctTruncated:
            sealed.ct = sealed.ct.dropLast()
        case .encFromOtherSeal:
            sealed.enc = try f.sealer.seal(secret, requestID: b.id, field: "new_password").enc
        case .sealedToOtherDaemon:
            let other = RequestSealer(sealingPublicKey: Curve25519.KeyAgreement.PrivateKey().publicKey, signingKey: f.signing)
            sealed = try other.seal(secret, requestID: b.id, field: "new_password")
        }
        #expect(throws: RequestRejection(Outcome(.invalidRequest, detail: "\(field): cannot be opened"))) {
            try f.opener.open(sealed, requestID: b.id, field: field)
        }
    }

    @Test("the RFC 9180 info string is exactly writebackd/v1/<id>/<field>")
    func infoString() {
        #expect(RequestSealer.info(requestID: "abc", field: "new_password") == Data("writebackd/v1/abc/new_password".utf8))
    }
}
