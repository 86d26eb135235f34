import Foundation

/// Where a trail's files are: the current file (`audit.jsonl`) and the rotated ones beside it
/// (`audit-20260102T030405678Z-000000000123.jsonl`, oldest first by name, which is also chain order).
public enum AuditFiles {
    /// The name a file rotated at `date` gets, in the current file's directory; `nextSeq` (the
    /// seq the new file starts with, zero-padded) keeps two rotations in one millisecond apart.
    public static func rotatedPath(for current: String, at date: Date, nextSeq: Int) -> String {
        let (dir, stem, ext) = split(current)
        let stamp = AuditTime.format(date).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
            .replacingOccurrences(of: ".", with: "")  // 20260102T030405678Z
        let seq = String(nextSeq)
        return dir + "/" + stem + "-" + stamp + "-" + String(repeating: "0", count: max(0, 12 - seq.count)) + seq + ext
    }

    /// Every file of the trail whose current file is `current`, in chain order (rotated ones
    /// first, the current one last); missing files are left out.
    public static func trail(current: String) -> [String] {
        let (dir, stem, ext) = split(current)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let rotated = names.filter { $0.hasPrefix(stem + "-") && $0.hasSuffix(ext) }.sorted().map { dir + "/" + $0 }
        return rotated + (FileManager.default.fileExists(atPath: current) ? [current] : [])
    }

    static func split(_ path: String) -> (dir: String, stem: String, ext: String) {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let ext = url.pathExtension.isEmpty ? "" : "." + url.pathExtension
        return (dir, String(name.dropLast(ext.count)), ext)
    }
}
