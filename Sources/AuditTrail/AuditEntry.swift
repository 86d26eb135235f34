import Foundation
import RequestCodec
import Synchronization

/// One parsed line of a trail, with the hash of its exact bytes. Parsing is strict (the
/// RequestCodec parser: valid UTF-8, no duplicate keys) because a trail is evidence: a line
/// that does not parse is reported, never guessed at.
public struct AuditEntry: Sendable, Hashable {
    public var seq: Int
    public var prev: String
    public var type: AuditLineType
    public var at: String
    /// Every other member that is a string or null (request fields, key_id, sig, reason, …).
    public var strings: [String: String?]
    public var ints: [String: Int]
    /// SHA-256 (hex) of the line's bytes, newline excluded.
    public var hash: String

    public func string(_ key: String) -> String? { strings[key] ?? nil }

    /// Why a line is not an audit line. Never quotes the line (it may be anything).
    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        case notJSON(String)
        case missing(String)
        case unknownType(String)

        public var description: String {
            switch self {
            case .notJSON(let why): "not JSON (\(why))"
            case .missing(let key): "no valid \"\(key)\""
            case .unknownType(let type): "unknown type \"\(type.prefix(32))\""
            }
        }
    }

    private static func isHexDigit(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
    }

    /// Every line parsed, in order, spread over the machine's cores (parsing is pure and the
    /// lines are independent; a 100,000-line trail is parsed in a fraction of the time one
    /// core needs).
    public static func parseAll(_ lines: [ArraySlice<UInt8>]) -> [Result<AuditEntry, ParseError>] {
        let chunk = 2_048
        let chunks = (lines.count + chunk - 1) / chunk
        guard chunks > 1 else { return lines.map { line in Result { () throws(ParseError) in try parse(line) } } }
        let parts = Mutex([[Result<AuditEntry, ParseError>]?](repeating: nil, count: chunks))
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let part = lines[(c * chunk)..<min(lines.count, (c + 1) * chunk)].map { line in
                Result { () throws(ParseError) in try parse(line) }
            }
            parts.withLock { $0[c] = part }
        }
        return parts.withLock { $0.flatMap { $0 ?? [] } }
    }

    public static func parse(_ line: some Collection<UInt8>) throws(ParseError) -> AuditEntry {
        let bytes = Array(line)
        let value: JSONValue
        do throws(StrictJSONError) { value = try StrictJSONParser.parse(bytes: bytes) } catch { throw .notJSON(error.description) }
        guard case .object(let members) = value else { throw .notJSON("not an object") }
        var strings: [String: String?] = Dictionary(minimumCapacity: members.count)
        var ints: [String: Int] = Dictionary(minimumCapacity: 4)
        for m in members {
            switch m.value {
            case .string(let s): strings[m.key] = .some(s)
            case .null: strings[m.key] = .some(nil)
            case .number(let n): if let i = Int(n) { ints[m.key] = i }
            default: break
            }
        }
        guard let seq = ints["seq"], seq >= 0 else { throw .missing("seq") }
        guard let prev = strings["prev"] ?? nil, prev.utf8.count == 64, prev.utf8.allSatisfy(Self.isHexDigit) else { throw .missing("prev") }
        guard let typeName = strings["type"] ?? nil else { throw .missing("type") }
        guard let type = AuditLineType(rawValue: typeName) else { throw .unknownType(typeName) }
        guard let at = strings["at"] ?? nil else { throw .missing("at") }
        return AuditEntry(seq: seq, prev: prev, type: type, at: at, strings: strings, ints: ints, hash: AuditChain.hash(bytes))
    }
}

/// A trail file's bytes cut into lines. A last line without its newline is torn: the writer
/// appends each line with its newline in one write, so only a crash mid-append (or an edit)
/// leaves one.
public struct AuditLines: Sendable {
    public var lines: [ArraySlice<UInt8>]
    public var torn: ArraySlice<UInt8>?

    public init(_ bytes: [UInt8]) {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        // memchr: a 45 MB trail is split in milliseconds, not in a byte-by-byte loop.
        let ends: [Int] = bytes.withUnsafeBufferPointer { buffer in
            var out: [Int] = []
            guard let base = buffer.baseAddress else { return out }
            var offset = 0
            while offset < buffer.count, let hit = memchr(base + offset, 0x0A, buffer.count - offset) {
                let i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                out.append(i)
                offset = i + 1
            }
            return out
        }
        lines.reserveCapacity(ends.count)
        for i in ends {
            lines.append(bytes[start..<i])
            start = i + 1
        }
        self.lines = lines
        torn = start < bytes.count ? bytes[start...] : nil
    }
}
