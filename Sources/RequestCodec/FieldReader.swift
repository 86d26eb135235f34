import Foundation
import WritebackCore

/// Typed access to one JSON object's members for the payload decoder: each accessor
/// refuses a wrong type with `invalid_request` and a detail naming the full field path.
struct FieldReader {
    let prefix: String
    let members: [JSONMember]
    let isObject: Bool

    init(prefix: String, object: JSONValue) {
        self.prefix = prefix
        if case .object(let members) = object { self.members = members; isObject = true } else { members = []; isObject = false }
    }

    private func fail(_ key: String, _ reason: String) -> RequestRejection {
        PayloadV1.invalid(prefix + key, reason)
    }

    /// Refuses a non-object, and members other than `known`.
    func onlyKnown(_ known: Set<String>, name: String) throws(RequestRejection) {
        guard isObject else { throw PayloadV1.invalid(name, "expected an object") }
        for m in members where !known.contains(m.key) {
            throw PayloadV1.invalid(prefix + PayloadV1.safeName(m.key), "unknown field")
        }
    }

    func optional(_ key: String) throws(RequestRejection) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    func required(_ key: String) throws(RequestRejection) -> JSONValue {
        guard let v = try optional(key) else { throw fail(key, "missing") }
        return v
    }

    func requiredString(_ key: String) throws(RequestRejection) -> String {
        guard case .string(let s) = try required(key) else { throw fail(key, "expected a string") }
        return s
    }

    func requiredNumber(_ key: String) throws(RequestRejection) -> String {
        guard case .number(let n) = try required(key) else { throw fail(key, "expected a number") }
        return n
    }

    func optionalString(_ key: String, nullable: Bool) throws(RequestRejection) -> String? {
        switch try optional(key) {
        case nil: return nil
        case .null? where nullable: return nil
        case .string(let s)?: return s
        default: throw fail(key, "expected a string")
        }
    }

    func optionalBool(_ key: String) throws(RequestRejection) -> Bool? {
        switch try optional(key) {
        case nil: return nil
        case .bool(let b)?: return b
        default: throw fail(key, "expected true or false")
        }
    }

    func requiredDate(_ key: String) throws(RequestRejection) -> Date {
        let text = try requiredString(key)
        guard let date = RFC3339.parse(text) else { throw fail(key, "not an RFC 3339 date-time") }
        return date
    }

    func requiredStringList(_ key: String) throws(RequestRejection) -> [String] {
        try stringList(key, try required(key))
    }

    func optionalStringList(_ key: String) throws(RequestRejection) -> [String]? {
        guard let v = try optional(key) else { return nil }
        return try stringList(key, v)
    }

    private func stringList(_ key: String, _ value: JSONValue) throws(RequestRejection) -> [String] {
        guard case .array(let items) = value else { throw fail(key, "expected an array of strings") }
        guard items.count <= PayloadV1.maxListItems else { throw fail(key, "too many items") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw fail(key, "expected an array of strings") }
            guard !s.isEmpty, s.count <= PayloadV1.maxItemLength else { throw fail(key, "empty or too long item") }
            out.append(s)
        }
        return out
    }
}
