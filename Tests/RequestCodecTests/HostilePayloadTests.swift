import Foundation
import RequestCodec
import Testing
import WritebackCore

/// Every malformed shape of a payload, each signed with the right key so that only the
/// payload rule under test can refuse it: the expected code and the field in `detail`.
@Suite("Hostile payloads")
struct HostilePayloadTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let kind: RequestKind
        let mutate: @Sendable (JSONValue, String) -> JSONValue
        let detailPrefix: String
        var testDescription: String { name }
    }

    static let sealedJunk = JSONValue.object(["enc": .string(Data(count: 32).base64EncodedString()), "ct": .string(Data(count: 40).base64EncodedString())])

    static let cases: [Case] = [
        Case(name: "unknown top-level field", kind: .reset, mutate: { j, _ in j.setting("password", .string("x")) }, detailPrefix: "password: unknown field"),
        Case(name: "unknown initiator field", kind: .reset, mutate: { j, _ in j.setting("initiator", .object(["type": .string("self"), "role": .string("x")])) }, detailPrefix: "initiator.role: unknown field"),
        Case(name: "unknown verification field", kind: .reset, mutate: { j, _ in j.setting("verification", .object(["methods_passed": .strings([]), "registered_methods": .strings([]), "extra": .null])) }, detailPrefix: "verification.extra: unknown field"),
        Case(name: "unknown sealed field", kind: .reset, mutate: { j, _ in j.setting("new_password", .object(["enc": .string(""), "ct": .string(""), "alg": .string("x")])) }, detailPrefix: "new_password.alg: unknown field"),
        Case(name: "v as string", kind: .reset, mutate: { j, _ in j.setting("v", .string("1")) }, detailPrefix: "v: expected a number"),
        Case(name: "v = 2", kind: .reset, mutate: { j, _ in j.setting("v", .number("2")) }, detailPrefix: "v: unsupported"),
        Case(name: "v = 1.0", kind: .reset, mutate: { j, _ in j.setting("v", .number("1.0")) }, detailPrefix: "v: unsupported"),
        Case(name: "v missing", kind: .reset, mutate: { j, _ in j.setting("v", nil) }, detailPrefix: "v: missing"),
        Case(name: "id missing", kind: .reset, mutate: { j, _ in j.setting("id", nil) }, detailPrefix: "id: missing"),
        Case(name: "id not a UUID", kind: .reset, mutate: { j, _ in j.setting("id", .string("not-a-uuid")) }, detailPrefix: "id: not a UUID"),
        Case(name: "id ≠ row id", kind: .reset, mutate: { j, _ in j.setting("id", .string(UUID().uuidString.lowercased())) }, detailPrefix: "id: does not match"),
        Case(name: "id as number", kind: .reset, mutate: { j, _ in j.setting("id", .number("7")) }, detailPrefix: "id: expected a string"),
        Case(name: "kind unknown", kind: .reset, mutate: { j, _ in j.setting("kind", .string("delete")) }, detailPrefix: "kind: must be"),
        Case(name: "kind missing", kind: .reset, mutate: { j, _ in j.setting("kind", nil) }, detailPrefix: "kind: missing"),
        Case(name: "user missing", kind: .reset, mutate: { j, _ in j.setting("user", nil) }, detailPrefix: "user: missing"),
        Case(name: "user as number", kind: .reset, mutate: { j, _ in j.setting("user", .number("42")) }, detailPrefix: "user: expected a string"),
        Case(name: "user empty", kind: .reset, mutate: { j, _ in j.setting("user", .string("")) }, detailPrefix: "user: empty"),
        Case(name: "user with newline", kind: .reset, mutate: { j, _ in j.setting("user", .string("alice\n")) }, detailPrefix: "user: empty"),
        Case(name: "user with escaped NUL", kind: .reset, mutate: { j, _ in j.setting("user", .string("ali\u{0}ce")) }, detailPrefix: "payload: contains a NUL byte"),
        Case(name: "unlock as string", kind: .reset, mutate: { j, _ in j.setting("unlock", .string("yes")) }, detailPrefix: "unlock: expected true or false"),
        Case(name: "initiator missing", kind: .reset, mutate: { j, _ in j.setting("initiator", nil) }, detailPrefix: "initiator: missing"),
        Case(name: "initiator as string", kind: .reset, mutate: { j, _ in j.setting("initiator", .string("self")) }, detailPrefix: "initiator: expected an object"),
        Case(name: "initiator type other", kind: .reset, mutate: { j, _ in j.setting("initiator", .object(["type": .string("root")])) }, detailPrefix: "initiator.type: must be"),
        Case(name: "admin without name", kind: .reset, mutate: { j, _ in j.setting("initiator", .object(["type": .string("admin")])) }, detailPrefix: "initiator.name: missing"),
        Case(name: "self with name", kind: .reset, mutate: { j, _ in j.setting("initiator", .object(["type": .string("self"), "name": .string("x")])) }, detailPrefix: "initiator.name: not allowed"),
        Case(name: "issued_at missing", kind: .reset, mutate: { j, _ in j.setting("issued_at", nil) }, detailPrefix: "issued_at: missing"),
        Case(name: "issued_at without offset", kind: .reset, mutate: { j, _ in j.setting("issued_at", .string("2026-01-01T00:00:00")) }, detailPrefix: "issued_at: not an RFC 3339"),
        Case(name: "issued_at as epoch", kind: .reset, mutate: { j, _ in j.setting("issued_at", .number("1767225600")) }, detailPrefix: "issued_at: expected a string"),
        Case(name: "expires_at month 13", kind: .reset, mutate: { j, _ in j.setting("expires_at", .string("2099-13-01T00:00:00Z")) }, detailPrefix: "expires_at: not an RFC 3339"),
        Case(name: "expires_at Feb 30", kind: .reset, mutate: { j, _ in j.setting("expires_at", .string("2099-02-30T00:00:00Z")) }, detailPrefix: "expires_at: not an RFC 3339"),
        Case(name: "expires_at before issued_at", kind: .reset, mutate: { j, _ in j.setting("issued_at", .string("2100-01-01T00:00:00Z")).setting("expires_at", .string("2099-01-01T00:00:00Z")) }, detailPrefix: "expires_at: not after issued_at"),
        Case(name: "verification missing for self", kind: .reset, mutate: { j, _ in j.setting("verification", nil) }, detailPrefix: "verification: missing"),
        Case(name: "methods_passed as string", kind: .reset, mutate: { j, _ in j.setting("verification", .object(["methods_passed": .string("email"), "registered_methods": .strings([])])) }, detailPrefix: "verification.methods_passed: expected an array"),
        Case(name: "registered_methods missing", kind: .reset, mutate: { j, _ in j.setting("verification", .object(["methods_passed": .strings(["email"])])) }, detailPrefix: "verification.registered_methods: missing"),
        Case(name: "registration_confirmed_at bad", kind: .reset, mutate: { j, _ in j.setting("verification", .object(["methods_passed": .strings([]), "registered_methods": .strings([]), "registration_confirmed_at": .string("yesterday")])) }, detailPrefix: "verification.registration_confirmed_at: not an RFC 3339"),
        Case(name: "licenses as string", kind: .reset, mutate: { j, _ in j.setting("licenses", .string("EMS")) }, detailPrefix: "licenses: expected an array"),
        Case(name: "licenses with number", kind: .reset, mutate: { j, _ in j.setting("licenses", .array([.number("1")])) }, detailPrefix: "licenses: expected an array"),
        Case(name: "must_change as number", kind: .reset, mutate: { j, _ in j.setting("must_change_at_next_logon", .number("1")) }, detailPrefix: "must_change_at_next_logon: expected true or false"),
        Case(name: "locale not a tag", kind: .reset, mutate: { j, _ in j.setting("locale", .string("english please")) }, detailPrefix: "locale: not a BCP 47"),
        Case(name: "reset without new_password", kind: .reset, mutate: { j, _ in j.setting("new_password", nil) }, detailPrefix: "new_password: missing"),
        Case(name: "reset with old_password", kind: .reset, mutate: { j, _ in j.setting("old_password", sealedJunk) }, detailPrefix: "old_password: not allowed"),
        Case(name: "change without old_password", kind: .change, mutate: { j, _ in j.setting("old_password", nil) }, detailPrefix: "old_password: missing"),
        Case(name: "change without new_password", kind: .change, mutate: { j, _ in j.setting("new_password", nil) }, detailPrefix: "new_password: missing"),
        Case(name: "unlock with new_password", kind: .unlock, mutate: { j, _ in j.setting("new_password", sealedJunk) }, detailPrefix: "new_password: not allowed"),
        Case(name: "new_password in clear", kind: .reset, mutate: { j, _ in j.setting("new_password", .string("hunter2hunter2")) }, detailPrefix: "new_password: expected an object"),
        Case(name: "enc not base64", kind: .reset, mutate: { j, _ in j.setting("new_password", .object(["enc": .string("!!!"), "ct": .string("AAAA")])) }, detailPrefix: "new_password.enc: not base64"),
        Case(name: "enc truncated", kind: .reset, mutate: { j, _ in j.setting("new_password", .object(["enc": .string(Data(count: 31).base64EncodedString()), "ct": .string(Data(count: 40).base64EncodedString())])) }, detailPrefix: "new_password.enc: must be 32 bytes"),
        Case(name: "ct empty", kind: .reset, mutate: { j, _ in j.setting("new_password", .object(["enc": .string(Data(count: 32).base64EncodedString()), "ct": .string("")])) }, detailPrefix: "new_password.ct: empty"),
        Case(name: "ct only a tag", kind: .reset, mutate: { j, _ in j.setting("new_password", .object(["enc": .string(Data(count: 32).base64EncodedString()), "ct": .string(Data(count: 16).base64EncodedString())])) }, detailPrefix: "new_password.ct: shorter"),
        Case(name: "ct missing", kind: .reset, mutate: { j, _ in j.setting("new_password", .object(["enc": .string(Data(count: 32).base64EncodedString())])) }, detailPrefix: "new_password.ct: missing"),
        Case(name: "payload an array", kind: .reset, mutate: { j, _ in .array([j]) }, detailPrefix: "payload: not a JSON object"),
        Case(name: "payload a string", kind: .reset, mutate: { _, _ in .string("reset") }, detailPrefix: "payload: not a JSON object"),
    ]

    @Test("a malformed field is invalid_request naming the field", arguments: cases)
    func malformed(_ c: Case) throws {
        let f = CodecFixture()
        let (id, json) = try f.goodJSON(c.kind)
        let result = try f.verify(id: id, payload: c.mutate(json, id).serialized())
        let outcome = try #require(result.outcome, "\(c.name) was accepted")
        #expect(outcome.code == .invalidRequest)
        #expect(outcome.detail?.hasPrefix(c.detailPrefix) == true, "\(c.name): detail \(outcome.detail ?? "nil")")
    }

    struct RawCase: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: @Sendable (Data) -> Data
        let detailPrefix: String
        var testDescription: String { name }
    }

    static func replacing(_ d: Data, _ a: String, _ b: [UInt8]) -> Data {
        var s = [UInt8](d)
        let needle = Array(a.utf8)
        if let i = (0...(s.count - needle.count)).first(where: { Array(s[$0..<$0 + needle.count]) == needle }) {
            s.replaceSubrange(i..<i + needle.count, with: b)
        }
        return Data(s)
    }

    static let rawCases: [RawCase] = [
        RawCase(name: "1 MB payload", bytes: { d in d + Data(repeating: 0x20, count: 1 << 20) }, detailPrefix: "payload: larger than 65536"),
        RawCase(name: "64 KiB + 1", bytes: { d in d + Data(repeating: 0x20, count: 65_537 - d.count) }, detailPrefix: "payload: larger than 65536"),
        RawCase(name: "raw NUL byte", bytes: { d in replacing(d, "alice", [0x61, 0x00, 0x62]) }, detailPrefix: "payload: contains a NUL"),
        RawCase(name: "invalid UTF-8", bytes: { d in replacing(d, "alice", [0x61, 0xC3, 0x28]) }, detailPrefix: "payload: not valid UTF-8"),
        RawCase(name: "overlong UTF-8", bytes: { d in replacing(d, "alice", [0xC0, 0xAF]) }, detailPrefix: "payload: not valid UTF-8"),
        RawCase(name: "lone surrogate escape", bytes: { d in replacing(d, "alice", Array("\\ud800".utf8)) }, detailPrefix: "payload: not valid JSON"),
        RawCase(name: "duplicate key", bytes: { d in replacing(d, "\"user\":", Array("\"user\":\"mallory\",\"user\":".utf8)) }, detailPrefix: "user: duplicate key"),
        RawCase(name: "trailing garbage", bytes: { d in d + Data("x".utf8) }, detailPrefix: "payload: not valid JSON"),
        RawCase(name: "two objects", bytes: { d in d + d }, detailPrefix: "payload: not valid JSON"),
        RawCase(name: "truncated", bytes: { d in d.prefix(d.count / 2) }, detailPrefix: "payload: not valid JSON"),
        RawCase(name: "empty", bytes: { _ in Data() }, detailPrefix: "payload: not valid JSON"),
        RawCase(name: "single quotes", bytes: { d in Data(String(decoding: d, as: UTF8.self).replacingOccurrences(of: "\"", with: "'").utf8) }, detailPrefix: "payload: not valid JSON"),
        RawCase(name: "trailing comma", bytes: { d in Data((String(decoding: d.dropLast(), as: UTF8.self) + ",}").utf8) }, detailPrefix: "payload: not valid JSON"),
        RawCase(name: "deep nesting", bytes: { d in Data((String(decoding: d.dropLast(), as: UTF8.self) + ",\"x\":" + String(repeating: "[", count: 10_000) + "}").utf8) }, detailPrefix: "payload: nests too deeply"),
        RawCase(name: "leading BOM", bytes: { d in Data([0xEF, 0xBB, 0xBF]) + d }, detailPrefix: "payload: not valid JSON"),
        RawCase(name: "leading zero number", bytes: { d in replacing(d, "\"v\":1", Array("\"v\":01".utf8)) }, detailPrefix: "payload: not valid JSON"),
    ]

    @Test("hostile bytes are invalid_request, never a crash", arguments: rawCases)
    func rawBytes(_ c: RawCase) throws {
        let f = CodecFixture()
        let (id, json) = try f.goodJSON()
        let result = try f.verify(id: id, payload: c.bytes(json.serialized()))
        let outcome = try #require(result.outcome, "\(c.name) was accepted")
        #expect(outcome.code == .invalidRequest)
        #expect(outcome.detail?.hasPrefix(c.detailPrefix) == true, "\(c.name): detail \(outcome.detail ?? "nil")")
    }

    @Test("random byte mutations of a good payload never crash and never pass unsigned")
    func mutationsNeverCrash() throws {
        let f = CodecFixture()
        let (id, json) = try f.goodJSON(.change)
        let good = [UInt8](json.serialized())
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            var bytes = good
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.remove(at: i)
                default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                }
            }
            // Signed: exercises the decoder on every mutation.
            _ = try f.verify(id: id, payload: Data(bytes))
            _ = try? PayloadV1.decode(Data(bytes))
            _ = PayloadRedactor.redact(Data(bytes))
        }
    }
}
