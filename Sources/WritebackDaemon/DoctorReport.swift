import Foundation

/// One line of `writebackctl doctor`: what was checked, whether it passed, what was found, and
/// — for a failure — what to do about it. Exists so every check speaks the same shape, for the
/// terminal (`✓`/`✗` lines) and for `--json`.
public struct DoctorCheck: Sendable, Hashable, Codable {
    /// Short name: `config`, `keys.sealing_private_key`, `directory ldaps://dc1 tls`, …
    public var name: String
    public var ok: Bool
    /// What was found (never a secret).
    public var detail: String
    /// For a failure: the action that fixes it.
    public var fix: String?

    enum CodingKeys: String, CodingKey { case name, ok, detail, fix }

    /// Always writes `fix` (null when the check passed), so every element has the same keys.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(ok, forKey: .ok)
        try c.encode(detail, forKey: .detail)
        try c.encode(fix, forKey: .fix)
    }

    public static func pass(_ name: String, _ detail: String) -> DoctorCheck { DoctorCheck(name: name, ok: true, detail: detail, fix: nil) }
    public static func fail(_ name: String, _ detail: String, fix: String) -> DoctorCheck { DoctorCheck(name: name, ok: false, detail: detail, fix: fix) }
}

/// Every check of one `doctor` run, in order. `ok` is false when any check failed (exit 1).
public struct DoctorReport: Sendable, Hashable, Codable {
    public var checks: [DoctorCheck] = []
    public var ok: Bool { checks.allSatisfy(\.ok) }
    public init(checks: [DoctorCheck] = []) { self.checks = checks }

    public mutating func add(_ check: DoctorCheck) { checks.append(check) }

    /// One line per check: `✓ name: detail` or `✗ name: detail — fix: …`, then a summary line.
    public func text() -> String {
        var lines = checks.map { c in
            c.ok ? "✓ \(c.name): \(c.detail)" : "✗ \(c.name): \(c.detail) — fix: \(c.fix ?? "see the detail")"
        }
        let failed = checks.filter { !$0.ok }.count
        lines.append(failed == 0 ? "doctor: all \(checks.count) checks passed"
                                 : "doctor: \(failed) of \(checks.count) checks failed")
        return lines.joined(separator: "\n")
    }

    /// `{"ok": bool, "checks": [{"name","ok","detail","fix"}]}`
    public func json() -> String {
        struct Wire: Encodable { let ok: Bool; let checks: [DoctorCheck] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Wire(ok: ok, checks: checks))) ?? Data("{\"ok\":false}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
