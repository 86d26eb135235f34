import Foundation

/// A private temporary directory removed when the value goes away (also when a test fails).
final class TempDir: Sendable {
    let path: String
    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("wbpolicy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = base.path
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
