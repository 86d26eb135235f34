import Crypto
import Foundation

/// The chain's arithmetic, free of I/O. Every line carries `seq` (consecutive across files and
/// restarts) and `prev`, the SHA-256 (hex) of the previous line's bytes without its newline;
/// the first line of a trail has seq 0 and 64 zeros. A signature line signs its own seq and
/// prev with the audit key: since prev hashes everything before it, one signature vouches for
/// every earlier line, and a rewritten chain cannot be signed again without the key.
public enum AuditChain {
    /// `prev` of the very first line.
    public static let genesis = String(repeating: "0", count: 64)

    /// The position where the next line goes.
    public struct Head: Sendable, Hashable {
        public var seq: Int
        public var prev: String
        public static let start = Head(seq: 0, prev: AuditChain.genesis)
        public init(seq: Int, prev: String) { self.seq = seq; self.prev = prev }
    }

    public static func hash(_ line: some Collection<UInt8>) -> String {
        let digest = line.withContiguousStorageIfAvailable { SHA256.hash(data: UnsafeRawBufferPointer($0)) } ?? SHA256.hash(data: Array(line))
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in digest {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// What a signature line signs: a domain string and the line's own seq, prev, at and
    /// key_id (every member but `sig`, so not even the last line of a trail can be edited).
    public static func signedMessage(seq: Int, prev: String, at: String, keyID: String) -> Data {
        Data("writebackd-audit-v1\n\(seq)\n\(prev)\n\(at)\n\(keyID)\n".utf8)
    }

    /// A short name for a public key: the first 16 hex digits of SHA-256 of its raw bytes.
    public static func keyID(_ key: Curve25519.Signing.PublicKey) -> String {
        String(hash(Array(key.rawRepresentation)).prefix(16))
    }

    /// The line (without newline) for `body` at `head`, and the head after it.
    static func line(_ type: AuditLineType, at date: Date, head: Head, body: [(String, AuditJSON)]) -> (bytes: [UInt8], next: Head) {
        let members: [(String, AuditJSON)] = [
            ("seq", .int(head.seq)), ("prev", .string(head.prev)), ("type", .string(type.rawValue)),
            ("at", .string(AuditTime.format(date))),
        ] + body
        let bytes = AuditJSON.object(members)
        return (bytes, Head(seq: head.seq + 1, prev: hash(bytes)))
    }

    public static func requestLine(_ record: AuditRecord, head: Head) -> (bytes: [UInt8], next: Head) {
        line(.request, at: record.completedAt, head: head, body: record.fields)
    }

    /// Written at every start and after every rotation: who opened the trail, which file it
    /// continues, and whether a torn last line (a crash mid-append) was cut off first.
    public static func openLine(_ open: AuditOpen, at date: Date, head: Head) -> (bytes: [UInt8], next: Head) {
        var body: [(String, AuditJSON)] = [("reason", .string(open.reason.rawValue)), ("owner", .string(open.owner)),
                                           ("version", .string(open.version)), ("previous_file", .optional(open.previousFile))]
        if let torn = open.repairedTorn {
            body += [("repaired_torn_bytes", .int(torn.bytes)), ("repaired_torn_sha256", .string(torn.sha256))]
        }
        return line(.open, at: date, head: head, body: body)
    }

    public static func signatureLine(key: Curve25519.Signing.PrivateKey, at date: Date, head: Head) throws -> (bytes: [UInt8], next: Head) {
        let id = keyID(key.publicKey)
        let signature = try key.signature(for: signedMessage(seq: head.seq, prev: head.prev, at: AuditTime.format(date), keyID: id))
        return line(.signature, at: date, head: head, body: [
            ("key_id", .string(id)), ("sig", .string(Data(signature).base64EncodedString())),
        ])
    }
}

/// The kinds of line in a trail.
public enum AuditLineType: String, Sendable, Hashable, CaseIterable {
    case open, request, signature
}

/// What an `open` line records.
public struct AuditOpen: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable { case start, rotate }
    public struct Torn: Sendable, Hashable {
        public var bytes: Int
        public var sha256: String
        public init(bytes: Int, sha256: String) { self.bytes = bytes; self.sha256 = sha256 }
    }
    public var reason: Reason
    public var owner: String
    public var version: String
    public var previousFile: String?
    public var repairedTorn: Torn?
    public init(reason: Reason, owner: String, version: String, previousFile: String? = nil, repairedTorn: Torn? = nil) {
        self.reason = reason; self.owner = owner; self.version = version; self.previousFile = previousFile; self.repairedTorn = repairedTorn
    }
}
