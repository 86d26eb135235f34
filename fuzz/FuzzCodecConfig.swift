// libFuzzer entry point for the payload decoder, the sealed-field opener and the TOML
// configuration loader (`make fuzz`, scripts/fuzz.sh). Compiled together with the sources of
// WritebackCore, RequestCodec and WritebackConfig as one instrumented module
// (-sanitize=fuzzer,address); WRITEBACKD_FUZZ_TARGET chooses the function under test.
// Each target also checks what must hold for every input, not only that nothing crashes.
import Crypto
import Foundation

enum FuzzTarget: String {
    case payload, opener, config
    static let current: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["WRITEBACKD_FUZZ_TARGET"] ?? "payload"
        guard let t = FuzzTarget(rawValue: name) else { fatalError("WRITEBACKD_FUZZ_TARGET: payload, opener or config") }
        return t
    }()
}

/// A fixed key pair, so that sealed values in the corpus open from one run to the next.
let fuzzSealingKey = try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: Data(repeating: 7, count: 32))
let fuzzOpener = PasswordOpener(privateKey: fuzzSealingKey)
let fuzzRequestID = "0b0e6f3c-6f46-4f7e-9d3b-3b0f4a2d9c11"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Data(bytes: data, count: size)
    switch FuzzTarget.current {
    case .payload: fuzzPayload(bytes)
    case .opener: fuzzOpener(bytes)
    case .config: fuzzConfig(bytes)
    }
    return 0
}

/// The strict decoder and the redactor on any bytes: never a crash; a redacted payload keeps
/// no sealed field; what decodes has the required fields within their limits.
func fuzzPayload(_ bytes: Data) {
    let redacted = PayloadRedactor.redact(bytes)
    if let root = try? StrictJSONParser.parse(redacted), case .object(let members) = root {
        for m in members where PayloadV1.sealedFields.contains(m.key) {
            guard case .string("redacted") = m.value else { fatalError("redactor kept \(m.key)") }
        }
    }
    guard let request = try? PayloadV1.decode(bytes) else { return }
    precondition(bytes.count <= PayloadV1.maxBytes)
    precondition(!request.user.isEmpty && request.user.count <= 1024)
    precondition(request.expiresAt > request.issuedAt)
}

/// Input byte 0 picks the shape: even — a plaintext (the rest) sealed here and opened again,
/// which must give it back exactly when it is NUL-free UTF-8 and refuse it otherwise;
/// odd — the rest split into enc (32 bytes) and ct, opened as found in a hostile row.
func fuzzOpener(_ bytes: Data) {
    guard let selector = bytes.first else { return }
    let rest = Data(bytes.dropFirst())
    if selector % 2 == 0 {
        let sealer = RequestSealer(sealingPublicKey: fuzzSealingKey.publicKey, signingKey: Curve25519.Signing.PrivateKey())
        guard let sealed = try? sealer.seal(Secret(bytes: rest), requestID: fuzzRequestID, field: "new_password") else { return }
        let valid = String(validating: rest, as: UTF8.self) != nil && !rest.contains(0)
        do {
            let opened = try fuzzOpener.open(sealed, requestID: fuzzRequestID, field: "new_password")
            precondition(valid, "opened a password that is not NUL-free UTF-8")
            precondition(opened.withBytes { Data($0) } == rest, "round trip changed the password")
        } catch {
            precondition(!valid, "refused a valid sealed password")
        }
        // Moved to another field or request, it must not open.
        precondition((try? fuzzOpener.open(sealed, requestID: fuzzRequestID, field: "old_password")) == nil)
    } else {
        let enc = Data(rest.prefix(32)), ct = Data(rest.dropFirst(32))
        _ = try? fuzzOpener.open(SealedValue(enc: enc, ct: ct), requestID: fuzzRequestID, field: "new_password")
    }
}

/// The TOML loader on any text: a Configuration or a ConfigError naming the file, never a crash.
func fuzzConfig(_ bytes: Data) {
    let text = String(decoding: bytes, as: UTF8.self)
    do {
        _ = try ConfigLoader.parse(toml: text, path: "fuzz.toml", groupExists: { _ in true })
    } catch {
        precondition(!error.description.isEmpty)
    }
}
