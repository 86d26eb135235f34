import Foundation
import WritebackCore

/// Payload v1 (DESIGN.md "Request"): field names, limits, and the strict decoder that turns
/// parsed JSON into a `ResetRequest`. Every refusal names the field: `detail` is
/// `"<field>: <reason>"` and never quotes a value.
public enum PayloadV1 {
    /// The payload size limit, in bytes of the stored JSON.
    public static let maxBytes = 64 * 1024
    /// The fields a sealed password can sit in.
    public static let sealedFields = ["new_password", "old_password"]
    static let topLevelFields: Set<String> = [
        "v", "id", "kind", "user", "unlock", "initiator", "issued_at", "expires_at", "verification",
        "licenses", "must_change_at_next_logon", "locale", "new_password", "old_password",
    ]
    static let maxUserLength = 1024
    static let maxListItems = 64
    static let maxItemLength = 256

    /// Decodes an already signature-checked payload. Does not look at the clock.
    public static func decode(_ payload: Data) throws(RequestRejection) -> ResetRequest {
        guard payload.count <= maxBytes else { throw invalid("payload", "larger than \(maxBytes) bytes") }
        let root: JSONValue
        do {
            root = try StrictJSONParser.parse(payload)
        } catch {
            throw RequestRejection(Outcome(.invalidRequest, detail: jsonDetail(error)))
        }
        guard case .object(let members) = root else { throw invalid("payload", "not a JSON object") }
        for member in members where !topLevelFields.contains(member.key) {
            throw invalid(safeName(member.key), "unknown field")
        }
        let f = FieldReader(prefix: "", object: root)
        guard try f.requiredNumber("v") == "1" else { throw invalid("v", "unsupported version (expected 1)") }
        let id = try f.requiredString("id")
        guard isCanonicalUUID(id) else { throw invalid("id", "not a UUID") }
        let kindText = try f.requiredString("kind")
        guard let kind = RequestKind(rawValue: kindText) else { throw invalid("kind", "must be reset, unlock or change") }
        let user = try f.requiredString("user")
        guard !user.isEmpty, user.count <= maxUserLength, !user.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { throw invalid("user", "empty, too long or has control characters") }
        let unlock = try f.optionalBool("unlock") ?? true
        let initiator = try decodeInitiator(f.required("initiator"))
        let issuedAt = try f.requiredDate("issued_at")
        let expiresAt = try f.requiredDate("expires_at")
        guard expiresAt > issuedAt else { throw invalid("expires_at", "not after issued_at") }
        var verification: Verification?
        if let v = try f.optional("verification") {
            verification = try decodeVerification(v)
        } else if initiator == .user {
            throw invalid("verification", "missing (required when initiator.type is self)")
        }
        let licenses = try f.optionalStringList("licenses") ?? []
        let mustChange = try f.optionalBool("must_change_at_next_logon") ?? false
        let locale = try f.optionalString("locale", nullable: true)
        if let locale, !isLanguageTag(locale) { throw invalid("locale", "not a BCP 47 language tag") }
        let newPassword = try f.optional("new_password").map { v throws(RequestRejection) in try decodeSealed(v, field: "new_password") }
        let oldPassword = try f.optional("old_password").map { v throws(RequestRejection) in try decodeSealed(v, field: "old_password") }
        switch kind {
        case .reset:
            guard newPassword != nil else { throw invalid("new_password", "missing (required for reset)") }
            guard oldPassword == nil else { throw invalid("old_password", "not allowed for reset") }
        case .change:
            guard newPassword != nil else { throw invalid("new_password", "missing (required for change)") }
            guard oldPassword != nil else { throw invalid("old_password", "missing (required for change)") }
        case .unlock:
            guard newPassword == nil else { throw invalid("new_password", "not allowed for unlock") }
            guard oldPassword == nil else { throw invalid("old_password", "not allowed for unlock") }
        }
        return ResetRequest(
            id: id, kind: kind, user: user, unlock: unlock, initiator: initiator,
            issuedAt: issuedAt, expiresAt: expiresAt, verification: verification, licenses: licenses,
            mustChangeAtNextLogon: mustChange, locale: locale,
            newPassword: newPassword, oldPassword: oldPassword)
    }

    static func invalid(_ field: String, _ reason: String) -> RequestRejection {
        RequestRejection(Outcome(.invalidRequest, detail: "\(field): \(reason)"))
    }

    private static func jsonDetail(_ error: StrictJSONError) -> String {
        switch error {
        case .duplicateKey(let key): "\(safeName(key)): duplicate key"
        default: "payload: \(error.description)"
        }
    }

    /// A field name fit for `detail`: unknown keys are producer input, so bound and sanitise.
    static func safeName(_ key: String) -> String {
        let cleaned = String(key.unicodeScalars.prefix(64).map { s in
            (s.properties.isAlphabetic || s.properties.numericType != nil || s == "_" || s == "." || s == "-") ? Character(s) : "?"
        })
        return cleaned.isEmpty ? "\"\"" : cleaned
    }

    private static func decodeInitiator(_ value: JSONValue) throws(RequestRejection) -> Initiator {
        let f = FieldReader(prefix: "initiator.", object: value)
        try f.onlyKnown(["type", "name"], name: "initiator")
        switch try f.requiredString("type") {
        case "self":
            guard try f.optional("name") == nil else { throw invalid("initiator.name", "not allowed for type self") }
            return .user
        case "admin":
            let name = try f.requiredString("name")
            guard !name.isEmpty, name.count <= maxItemLength, !name.unicodeScalars.contains(where: { $0.value < 0x20 })
            else { throw invalid("initiator.name", "empty, too long or has control characters") }
            return .admin(name: name)
        default:
            throw invalid("initiator.type", "must be self or admin")
        }
    }

    private static func decodeVerification(_ value: JSONValue) throws(RequestRejection) -> Verification {
        let f = FieldReader(prefix: "verification.", object: value)
        try f.onlyKnown(["methods_passed", "registered_methods", "registration_confirmed_at"], name: "verification")
        let passed = try f.requiredStringList("methods_passed")
        let registered = try f.requiredStringList("registered_methods")
        var confirmedAt: Date?
        if let text = try f.optionalString("registration_confirmed_at", nullable: true) {
            guard let date = RFC3339.parse(text) else { throw invalid("verification.registration_confirmed_at", "not an RFC 3339 date-time") }
            confirmedAt = date
        }
        return Verification(methodsPassed: passed, registeredMethods: registered, registrationConfirmedAt: confirmedAt)
    }

    private static func decodeSealed(_ value: JSONValue, field: String) throws(RequestRejection) -> SealedValue {
        let f = FieldReader(prefix: "\(field).", object: value)
        try f.onlyKnown(["enc", "ct"], name: field)
        guard let enc = Data(base64Encoded: try f.requiredString("enc")) else { throw invalid("\(field).enc", "not base64") }
        guard enc.count == 32 else { throw invalid("\(field).enc", "must be 32 bytes") }
        guard let ct = Data(base64Encoded: try f.requiredString("ct")) else { throw invalid("\(field).ct", "not base64") }
        guard ct.count > 16 else { throw invalid("\(field).ct", ct.isEmpty ? "empty" : "shorter than the 16-byte tag plus one byte") }
        guard ct.count <= 16 + 4096 else { throw invalid("\(field).ct", "too long") }
        return SealedValue(enc: enc, ct: ct)
    }

    /// 8-4-4-4-12 hexadecimal, either case.
    public static func isCanonicalUUID(_ s: String) -> Bool {
        s.utf8.count == 36 && UUID(uuidString: s) != nil
    }

    /// A pragmatic BCP 47 shape check: `xx`, `xx-YY`, `zh-Hant-TW`, ...
    static func isLanguageTag(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...8).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLetter }) else { return false }
        return parts.dropFirst().allSatisfy { p in (1...8).contains(p.count) && p.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }
}
