import Foundation

/// What a terminal row's payload becomes (DESIGN.md "Terminal rows"): every sealed field's
/// value replaced by `"redacted"`, every other byte kept. Sealed fields are `new_password`,
/// `old_password`, and any other top-level member whose value is an object with `enc` or
/// `ct` (a misspelt field must not keep a sealed password either). A payload that does not
/// parse cannot be redacted field by field, so it is replaced as a whole.
public enum PayloadRedactor {
    public static let redactedValue = "\"redacted\""
    /// Stored instead of a payload that is not strict JSON.
    public static let unparseableReplacement = "{\"redacted\":\"payload was not valid JSON\"}"

    public static func redact(_ payload: Data) -> Data {
        guard payload.count <= 4 * PayloadV1.maxBytes,
              let root = try? StrictJSONParser.parse(payload),
              case .object(let members) = root
        else {
            return Data(unparseableReplacement.utf8)
        }
        let ranges = members.filter { m in
            if PayloadV1.sealedFields.contains(m.key) { return true }
            if case .object(let inner) = m.value { return inner.contains { $0.key == "enc" || $0.key == "ct" } }
            return false
        }.map(\.valueRange).sorted { $0.lowerBound > $1.lowerBound }
        var bytes = [UInt8](payload)
        for range in ranges {
            bytes.replaceSubrange(range, with: Array(redactedValue.utf8))
        }
        return Data(bytes)
    }
}
