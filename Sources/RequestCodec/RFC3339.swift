import Foundation

/// RFC 3339 timestamps as the payload carries them: `2026-01-02T03:04:05Z`, with an optional
/// fraction and `Z` or a `±HH:MM` offset. Hand-written because `ISO8601DateFormatter` accepts
/// or refuses fractions depending on its options and is lenient about the rest.
public enum RFC3339 {
    /// Parses `text`, or returns nil when it is not a valid RFC 3339 date-time.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        var p = 0
        func num(_ n: Int) -> Int? {
            guard p + n <= b.count else { return nil }
            var v = 0
            for i in p..<(p + n) {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            p += n
            return v
        }
        func lit(_ chars: String) -> Bool {
            guard p < b.count, chars.utf8.contains(b[p]) else { return false }
            p += 1
            return true
        }
        guard let year = num(4), lit("-"), let month = num(2), lit("-"), let day = num(2),
              lit("Tt"), let hour = num(2), lit(":"), let minute = num(2), lit(":"), let second = num(2)
        else { return nil }
        var fraction = 0.0
        if lit(".") {
            var scale = 0.1
            let start = p
            while p < b.count, b[p] >= 0x30, b[p] <= 0x39 {
                fraction += Double(b[p] - 0x30) * scale
                scale /= 10
                p += 1
            }
            guard p > start, p - start <= 9 else { return nil }
        }
        var offsetSeconds = 0
        if lit("Zz") {
        } else if p < b.count, b[p] == UInt8(ascii: "+") || b[p] == UInt8(ascii: "-") {
            let sign = b[p] == UInt8(ascii: "-") ? -1 : 1
            p += 1
            guard let oh = num(2), lit(":"), let om = num(2), oh <= 23, om <= 59 else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard p == b.count else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        var components = DateComponents()
        components.year = year; components.month = month; components.day = day
        components.hour = hour; components.minute = minute; components.second = min(second, 59)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let base = calendar.date(from: components) else { return nil }
        // A leap second (":60") is taken as the last second of the minute plus one.
        let leap = second == 60 ? 1.0 : 0.0
        return base.addingTimeInterval(fraction + leap - Double(offsetSeconds))
    }

    /// Formats `date` in UTC with whole seconds: `2026-01-02T03:04:05Z`.
    public static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ v: Int?, _ w: Int) -> String {
            let s = String(v ?? 0)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))Z"
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
