import Foundation
import RequestCodec

/// The few JSON value shapes an audit line holds, written compactly in a fixed member order so
/// a line's bytes (and so its hash) depend only on its content.
enum AuditJSON: Sendable, Hashable {
    case string(String)
    case int(Int)
    case null

    static func optional(_ s: String?) -> AuditJSON { s.map(AuditJSON.string) ?? .null }

    /// `{"k":v,…}` in the given order, as UTF-8 bytes, with the escapes RFC 8259 requires.
    static func object(_ members: [(String, AuditJSON)]) -> [UInt8] {
        var out = "{"
        for (i, (key, value)) in members.enumerated() {
            if i > 0 { out += "," }
            writeString(key, to: &out)
            out += ":"
            switch value {
            case .string(let s): writeString(s, to: &out)
            case .int(let n): out += String(n)
            case .null: out += "null"
            }
        }
        out += "}"
        return Array(out.utf8)
    }

    /// A NUL becomes U+FFFD (the verifier's strict parser refuses NUL even escaped; a NUL
    /// cannot come from a verified payload, but a directory's error text is not ours to trust).
    static func writeString(_ s: String, to out: inout String) {
        JSONStringLiteral.append(s, to: &out, nulReplacement: "\u{FFFD}", escapeLineSeparators: true)
    }
}

/// Timestamps in the trail: UTC, RFC 3339, milliseconds (`2026-01-02T03:04:05.678Z`).
public enum AuditTime {
    public static func format(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = ms / 1000
        var millis = ms % 1000
        if millis < 0 { millis += 1000; seconds -= 1 }
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
