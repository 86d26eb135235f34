import Foundation
import TOMLKit
import WritebackCore

/// `[audit]`: where the tamper-evident trail goes and how it is signed. The trail is always
/// written; without `signing_key` it is hash-chained but not signed.
enum AuditSection {
    static let keys = ["path", "signing_key", "batch_lines", "batch_seconds", "rotate_bytes"]

    static func read(_ table: TOMLTable, state: StateConfig, _ context: ParseContext) throws(ConfigError) -> AuditConfig {
        let r = try TableReader(table, section: "audit", known: keys, context: context)
        var a = AuditConfig()
        if let path = try r.path("path") {
            a.path = path
        } else if let statePath = state.path, state.url == nil {
            a.path = URL(fileURLWithPath: statePath).deletingLastPathComponent().appendingPathComponent("audit.jsonl").path
        }
        a.signingKey = try r.path("signing_key", allowEmpty: true) ?? ""
        a.batchLines = try r.int("batch_lines", in: 1...100_000, unit: "lines") ?? a.batchLines
        a.batchSeconds = try r.int("batch_seconds", in: 1...86_400, unit: "seconds") ?? a.batchSeconds
        if let bytes = try r.int("rotate_bytes") {
            guard bytes == 0 || bytes >= 65_536 else { throw r.invalid("rotate_bytes", "\(bytes) must be 0 (never) or at least 65536") }
            a.rotateBytes = bytes
        }
        return a
    }
}
