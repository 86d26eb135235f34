import Foundation
import RequestCodec

/// The one timestamp format of the queue's text columns: UTC RFC 3339 with milliseconds,
/// fixed width (`2026-01-02T03:04:05.678Z`), exactly what SQLite's
/// `strftime('%Y-%m-%dT%H:%M:%fZ','now')` writes as a column default. Fixed width makes text
/// comparison in SQL equal to time comparison.
enum QueueTime {
    static let sqlNow = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

    static func format(_ date: Date) -> String {
        let ms = max(0, Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
        var t = time_t(ms / 1000)
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(Int(tm.tm_year) + 1900, 4))-\(pad(Int(tm.tm_mon) + 1, 2))-\(pad(Int(tm.tm_mday), 2))T"
            + "\(pad(Int(tm.tm_hour), 2)):\(pad(Int(tm.tm_min), 2)):\(pad(Int(tm.tm_sec), 2)).\(pad(Int(ms % 1000), 3))Z"
    }

    static func parse(_ text: String?) -> Date? {
        guard let text else { return nil }
        return RFC3339.parse(text)
    }
}
