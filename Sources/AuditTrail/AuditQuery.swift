import Foundation
import RequestCodec

/// `writebackctl audit show --user NAME [--since T]`: which request lines answer "who reset
/// this account, when, on whose behalf". Pure: entries in, matching entries out.
public enum AuditQuery {
    /// Whether a request line is about `user`: the identity the request named, the entry's
    /// DN, the name part of `name@domain` / `DOMAIN\name`, or the DN's first RDN value, all
    /// compared case-insensitively (administrators type "alice" for "alice@example.org").
    public static func matches(_ entry: AuditEntry, user: String) -> Bool {
        guard entry.type == .request else { return false }
        let wanted = user.lowercased()
        var names: [String] = []
        if let u = entry.string("user") {
            names.append(u)
            if let at = u.lastIndex(of: "@") { names.append(String(u[..<at])) }
            if let slash = u.lastIndex(of: "\\") { names.append(String(u[u.index(after: slash)...])) }
        }
        if let dn = entry.string("user_dn") {
            names.append(dn)
            if let eq = dn.firstIndex(of: "=") {
                let rest = dn[dn.index(after: eq)...]
                names.append(String(rest.prefix { $0 != "," }))
            }
        }
        return names.contains { $0.lowercased() == wanted }
    }

    /// `T` of `--since`: RFC 3339 (`2026-01-02T03:04:05Z`), a date (`2026-01-02`, UTC
    /// midnight), or an age (`90m`, `36h`, `7d`, `2w`) before `now`. Nil: not understood.
    public static func since(_ text: String, now: Date) -> Date? {
        if let date = RFC3339.parse(text) { return date }
        if text.count == 10, let date = RFC3339.parse(text + "T00:00:00Z") { return date }
        guard let unit = text.last, let n = Double(text.dropLast()), n >= 0, n.isFinite else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86_400
        case "w": seconds = 7 * 86_400
        default: return nil
        }
        return now.addingTimeInterval(-n * seconds)
    }

    /// Lines about `user` completed at or after `since`, in trail order.
    public static func select(_ entries: [AuditEntry], user: String, since: Date?) -> [AuditEntry] {
        entries.filter { entry in
            guard matches(entry, user: user) else { return false }
            guard let since else { return true }
            guard let at = RFC3339.parse(entry.at) else { return false }
            return at >= since
        }
    }
}
