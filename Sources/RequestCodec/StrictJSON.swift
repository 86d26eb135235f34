import Foundation

/// A parsed JSON value that keeps what `JSONSerialization` throws away: the order of object
/// members, and the byte range of each top-level member's value (so a payload can be redacted
/// in place without re-serialising the bytes the producer signed).
public indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's literal text; the decoder decides which numbers it accepts.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The member named `key`, if any (keys are unique: the parser refuses duplicates).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }
}

/// One `"key": value` pair of an object, with where its value sits in the input bytes.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue
    /// Byte offsets of the value in the parsed input (empty for built values).
    public var valueRange: Range<Int>

    public init(key: String, value: JSONValue, valueRange: Range<Int> = 0..<0) {
        self.key = key; self.value = value; self.valueRange = valueRange
    }
}

/// Why a document is not acceptable JSON. `description` never quotes the input.
public enum StrictJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidUTF8
    case nulByte
    case syntax(offset: Int)
    case duplicateKey(String)
    case tooDeep

    public var description: String {
        switch self {
        case .invalidUTF8: "not valid UTF-8"
        case .nulByte: "contains a NUL byte"
        case .syntax(let offset): "not valid JSON (at byte \(offset))"
        case .duplicateKey(let key): "\(key): duplicate key"
        case .tooDeep: "nests too deeply"
        }
    }
}

/// An RFC 8259 parser that is strict where a security boundary needs it: valid UTF-8 only,
/// no NUL (raw or `\u0000`), no duplicate keys, no trailing bytes, bounded nesting, no lone
/// surrogates. Small on purpose: payloads are at most 64 KiB.
public struct StrictJSONParser {
    private let bytes: [UInt8]
    private var pos = 0
    private let maxDepth = 16

    public static func parse(_ data: Data) throws(StrictJSONError) -> JSONValue {
        try parse(bytes: [UInt8](data))
    }

    /// The same from bytes already in an array (no copy into `Data` and back: the audit
    /// verifier parses 100,000 lines per run).
    public static func parse(bytes: [UInt8]) throws(StrictJSONError) -> JSONValue {
        var parser = try StrictJSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.pos == parser.bytes.count else { throw .syntax(offset: parser.pos) }
        return value
    }

    private init(_ bytes: [UInt8]) throws(StrictJSONError) {
        self.bytes = bytes
        if bytes.contains(0) { throw .nulByte }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .invalidUTF8 }
    }

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private mutating func expect(_ literal: String) throws(StrictJSONError) {
        for b in literal.utf8 {
            guard pos < bytes.count, bytes[pos] == b else { throw .syntax(offset: pos) }
            pos += 1
        }
    }

    private mutating func parseValue(depth: Int) throws(StrictJSONError) -> JSONValue {
        guard depth <= maxDepth else { throw .tooDeep }
        guard pos < bytes.count else { throw .syntax(offset: pos) }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        default: return .number(try parseNumber())
        }
    }

    private mutating func parseObject(depth: Int) throws(StrictJSONError) -> JSONValue {
        pos += 1
        var members: [JSONMember] = []
        // Duplicate keys: a linear look for small objects (every payload, and an audit line of 17 members), a set
        // beyond that; hashing each key of a 17-member audit line cost more than parsing it.
        var seen: Set<String>?
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object([]) }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw .syntax(offset: pos) }
            let key = try parseString()
            if seen == nil, members.count >= 32 { seen = Set(members.map(\.key)) }
            if seen != nil {
                guard seen!.insert(key).inserted else { throw .duplicateKey(key) }
            } else if members.contains(where: { $0.key == key }) {
                throw .duplicateKey(key)
            }
            skipWhitespace()
            try expect(":")
            skipWhitespace()
            let start = pos
            let value = try parseValue(depth: depth)
            members.append(JSONMember(key: key, value: value, valueRange: start..<pos))
            skipWhitespace()
            guard pos < bytes.count else { throw .syntax(offset: pos) }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
            throw .syntax(offset: pos)
        }
    }

    private mutating func parseArray(depth: Int) throws(StrictJSONError) -> JSONValue {
        pos += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array([]) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard pos < bytes.count else { throw .syntax(offset: pos) }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw .syntax(offset: pos)
        }
    }

    private mutating func parseNumber() throws(StrictJSONError) -> String {
        let start = pos
        func digits(_ p: inout Int, _ b: [UInt8]) -> Int {
            let s = p
            while p < b.count, b[p] >= 0x30, b[p] <= 0x39 { p += 1 }
            return p - s
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count else { throw .syntax(offset: pos) }
        if bytes[pos] == UInt8(ascii: "0") { pos += 1 } else if digits(&pos, bytes) == 0 { throw .syntax(offset: pos) }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            if digits(&pos, bytes) == 0 { throw .syntax(offset: pos) }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            if digits(&pos, bytes) == 0 { throw .syntax(offset: pos) }
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private mutating func hex4() throws(StrictJSONError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw .syntax(offset: pos) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw .syntax(offset: pos)
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    private mutating func parseString() throws(StrictJSONError) -> String {
        pos += 1
        // Fast path: no escape before the closing quote (nearly every string): one slice.
        var end = pos
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            defer { pos = end + 1 }
            return String(decoding: bytes[pos..<end], as: UTF8.self)
        }
        var out: [UInt8] = Array(bytes[pos..<end])
        pos = end
        while true {
            guard pos < bytes.count else { throw .syntax(offset: pos) }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c < 0x20 { throw .syntax(offset: pos) }
            if c != UInt8(ascii: "\\") { out.append(c); pos += 1; continue }
            pos += 1
            guard pos < bytes.count else { throw .syntax(offset: pos) }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    try expect("\\u")
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw .syntax(offset: pos) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw .syntax(offset: pos)
                }
                if scalar == 0 { throw .nulByte }
                guard let u = Unicode.Scalar(scalar) else { throw .syntax(offset: pos) }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw .syntax(offset: pos - 1)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
