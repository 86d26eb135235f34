import Crypto
import Foundation
import RequestCodec
import WritebackCore

/// Queue rows a hostile or broken producer could insert, each with the outcome the daemon
/// must give it. Rows that name a user name one of the `victims`, who must see no directory
/// write at all; the filter injections name no real user (RFC 4515 escaping makes them match
/// nothing). Replays are built by the scenario (they need a row the daemon finished).
struct HostileRows {
    struct Hostile: Sendable {
        var row: SignedRequest
        var kind: String
        /// The outcome code the daemon must record.
        var expected: String
    }

    static let kinds = ["forged", "expired", "malformed", "filter_injection", "oversized", "wrong_type", "sealed_copy", "id_mismatch", "unknown_field"]

    let setup: DrainSetup
    let forger = RequestSealer(sealingPublicKey: Curve25519.KeyAgreement.PrivateKey().publicKey, signingKey: Curve25519.Signing.PrivateKey())

    /// The producer's key pair is real: only what a row carries is wrong.
    private var sealer: RequestSealer { setup.sealer }

    private func builder(user: String, now: Date = Date(), ttl: TimeInterval = 3600) -> RequestBuilder {
        var b = RequestBuilder(kind: .reset, user: user, initiator: .admin(name: "bench"), ttl: ttl, now: now)
        b.licenses = ["AAD_PREMIUM"]
        return b
    }

    /// The payload of a good reset as a JSON value, to derive a hostile one from.
    private func goodJSON(_ b: RequestBuilder, password: String) throws -> JSONValue {
        b.json(newPassword: try sealer.seal(Secret(password), requestID: b.id, field: "new_password"), oldPassword: nil)
    }

    /// Hostile row number `n` of kind `kinds[n % kinds.count]`, aimed at `victim`;
    /// `donor` is a good row whose sealed password a `sealed_copy` row reuses.
    func make(_ n: Int, victim: Int, donor: SignedRequest) throws -> Hostile {
        let kind = Self.kinds[n % Self.kinds.count]
        let user = BenchSlapd.uid(victim)
        let pw = DrainSetup.newPassword()
        switch kind {
        case "forged":
            // Sealed correctly, signed by a key the daemon does not know.
            var b = builder(user: user)
            b.id = UUID().uuidString.lowercased()
            let payload = try goodJSON(b, password: pw).serialized()
            return Hostile(row: try forger.signRaw(id: b.id, payload: payload), kind: kind, expected: "invalid_request")
        case "expired":
            let b = builder(user: user, now: Date().addingTimeInterval(-7200), ttl: 60)
            return Hostile(row: try sealer.build(b, newPassword: Secret(pw)), kind: kind, expected: "expired")
        case "malformed":
            let b = builder(user: user)
            var text = String(decoding: try goodJSON(b, password: pw).serialized(), as: UTF8.self)
            let variants = [String(text.prefix(text.count / 2)), text + ",", "[" + text + "]", text.replacingOccurrences(of: "\"kind\"", with: "kind")]
            text = variants[(n / Self.kinds.count) % variants.count]
            return Hostile(row: try sealer.signRaw(id: b.id, payload: Data(text.utf8)), kind: kind, expected: "invalid_request")
        case "filter_injection":
            let injections = ["*", "bench0*", "*)(uid=*", "bench00001)(|(uid=*", "\\2a", "*)(objectClass=*))(|(uid=x", "(uid=*)", "bench00001*"]
            let b = builder(user: injections[(n / Self.kinds.count) % injections.count])
            return Hostile(row: try sealer.build(b, newPassword: Secret(pw)), kind: kind, expected: "not_managed")
        case "oversized":
            let b = builder(user: user)
            let json = try goodJSON(b, password: pw).setting("locale", .string(String(repeating: "a", count: 70_000)))
            return Hostile(row: try sealer.signRaw(id: b.id, payload: json.serialized()), kind: kind, expected: "invalid_request")
        case "wrong_type":
            let b = builder(user: user)
            let swaps: [(String, JSONValue)] = [("v", .string("1")), ("unlock", .string("yes")), ("licenses", .string("EMS")),
                                                ("must_change_at_next_logon", .number("1")), ("user", .number("42")),
                                                ("new_password", .string("in-clear-text-9X"))]
            let (key, value) = swaps[(n / Self.kinds.count) % swaps.count]
            let json = try goodJSON(b, password: pw).setting(key, value)
            return Hostile(row: try sealer.signRaw(id: b.id, payload: json.serialized()), kind: kind, expected: "invalid_request")
        case "sealed_copy":
            // Another request's sealed password, moved into this request: the HPKE info
            // (writebackd/v1/<id>/new_password) no longer matches, so it cannot open.
            let b = builder(user: user)
            guard let sealed = try PayloadV1.decode(donor.payload).newPassword else { throw BenchError.failed("donor has no password") }
            let json = b.json(newPassword: sealed, oldPassword: nil)
            return Hostile(row: try sealer.signRaw(id: b.id, payload: json.serialized()), kind: kind, expected: "invalid_request")
        case "id_mismatch":
            let b = builder(user: user)
            var row = try sealer.build(b, newPassword: Secret(pw))
            row.id = UUID().uuidString.lowercased()
            return Hostile(row: row, kind: kind, expected: "invalid_request")
        default: // unknown_field
            let b = builder(user: user)
            let json = try goodJSON(b, password: pw).setting("password", .string("x"))
            return Hostile(row: try sealer.signRaw(id: b.id, payload: json.serialized()), kind: kind, expected: "invalid_request")
        }
    }
}
