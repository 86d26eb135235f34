import Foundation

/// The three ways the outbox writes a time: the RFC 5322 `Date` header, RFC 3339 for
/// `outbox.jsonl`, and the human form the templates show ("2026-11-26 02:37 UTC").
/// Formatted with `gmtime_r`: no locale, no `DateFormatter` (not `Sendable`, and slow to make).
enum MailDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func utc(_ date: Date) -> tm {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return parts
    }

    private static func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// `Thu, 26 Nov 2026 02:37:20 +0000`
    static func rfc5322(_ date: Date) -> String {
        let t = utc(date)
        return "\(days[Int(t.tm_wday)]), \(t.tm_mday) \(months[Int(t.tm_mon)]) \(t.tm_year + 1900) "
            + "\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) +0000"
    }

    /// `2026-11-26T02:37:20.123Z`
    static func rfc3339(_ date: Date) -> String {
        let t = utc(date)
        let millis = Int((date.timeIntervalSince1970 - date.timeIntervalSince1970.rounded(.down)) * 1000)
        let fraction = String(millis + 1000).dropFirst()
        return "\(t.tm_year + 1900)-\(two(t.tm_mon + 1))-\(two(t.tm_mday))T"
            + "\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)).\(fraction)Z"
    }

    /// `2026-11-26 02:37 UTC`: the `{{time}}` placeholder, the same in every language (an
    /// unambiguous form; readers in every locale know ISO dates).
    static func display(_ date: Date) -> String {
        let t = utc(date)
        return "\(t.tm_year + 1900)-\(two(t.tm_mon + 1))-\(two(t.tm_mday)) \(two(t.tm_hour)):\(two(t.tm_min)) UTC"
    }
}
