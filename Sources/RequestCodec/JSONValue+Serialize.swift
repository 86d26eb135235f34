import Foundation

extension JSONValue {
    /// Compact JSON in member order (so the producer's bytes are stable), UTF-8, with only the
    /// escapes RFC 8259 requires (`"`, `\`, control characters).
    public func serialized() -> Data {
        var out = ""
        write(to: &out)
        return Data(out.utf8)
    }

    /// An object from `(key, value)` pairs, in this order.
    public static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(pairs.map { JSONMember(key: $0.key, value: $0.value, valueRange: 0..<0) })
    }

    public static func strings(_ items: [String]) -> JSONValue { .array(items.map(JSONValue.string)) }

    /// This object with `key` set to `value` (replacing it in place, or appended), or without
    /// `key` when `value` is nil. Used by tests to derive hostile payloads from a good one.
    public func setting(_ key: String, _ value: JSONValue?) -> JSONValue {
        guard case .object(var members) = self else { return self }
        if let i = members.firstIndex(where: { $0.key == key }) {
            if let value { members[i].value = value } else { members.remove(at: i) }
        } else if let value {
            members.append(JSONMember(key: key, value: value, valueRange: 0..<0))
        }
        return .object(members)
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(m.key, to: &out)
                out += ":"
                m.value.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        JSONStringLiteral.append(s, to: &out)
    }
}
