import Crypto
import Foundation

/// `writebackctl audit verify`: checks a trail (one file, or a rotated series in any order)
/// against the audit public key and names every line that is not as the daemon wrote it.
/// Pure: bytes in, a report out.
///
/// Order of reasoning: lines that do not parse are named and set aside; a line whose seq is
/// not where it belongs is `reordered` (those outside the longest run of increasing seqs, so
/// a swap names one line, not every line after it); a seq that appears twice is `duplicated`;
/// a gap in the seqs is `removed`; then, in seq order, each line's hash must be the next
/// line's prev (`edited` names the line whose bytes changed); finally every signature line
/// must verify. Lines after the last good signature are reported as unsigned, not as a
/// failure: the daemon signs every `batch_lines` lines / `batch_seconds` and at shutdown.
public enum AuditVerifier {
    public struct File: Sendable {
        public var name: String
        public var bytes: [UInt8]
        public init(name: String, bytes: [UInt8]) { self.name = name; self.bytes = bytes }
    }

    public struct Report: Sendable {
        public var files: [String] = []
        public var lines = 0
        public var firstSeq: Int?
        public var lastSeq: Int?
        /// Signature lines that verified.
        public var signatures = 0
        /// The highest seq vouched for by a good signature (every line before that signature).
        public var signedThrough: Int?
        /// Seqs after the last good signature.
        public var unsigned: ClosedRange<Int>?
        public var findings: [AuditFinding] = []
        /// Things worth knowing that are not tampering (repairs at start, where the trail starts).
        public var notes: [String] = []
        public var ok: Bool { findings.isEmpty }
    }

    struct Line {
        var position: AuditPosition
        var fileIndex: Int
        var isLastOfFile: Bool
        var isFirstOfFile: Bool
        var entry: AuditEntry
    }

    public static func verify(_ files: [File], key: Curve25519.Signing.PublicKey) -> Report {
        var report = Report()
        var perFile: [[Line]] = []
        for (index, file) in files.enumerated() {
            let split = AuditLines(file.bytes)
            var parsed: [Line] = []
            for (i, result) in AuditEntry.parseAll(split.lines).enumerated() {
                let position = AuditPosition(file: file.name, line: i + 1)
                switch result {
                case .success(let entry):
                    parsed.append(Line(position: position, fileIndex: index, isLastOfFile: false, isFirstOfFile: false, entry: entry))
                case .failure(let error):
                    report.findings.append(.notAuditLine(position, reason: error.description))
                }
            }
            if let torn = split.torn {
                report.findings.append(.torn(AuditPosition(file: file.name, line: split.lines.count + 1), bytes: torn.count))
            }
            report.lines += split.lines.count + (split.torn == nil ? 0 : 1)
            if !parsed.isEmpty { parsed[0].isFirstOfFile = true; parsed[parsed.count - 1].isLastOfFile = true }
            perFile.append(parsed)
        }
        // Rotated files in chain order, whatever order they were given in.
        perFile.sort { ($0.first?.entry.seq ?? Int.max) < ($1.first?.entry.seq ?? Int.max) }
        report.files = perFile.compactMap { $0.first?.position.file }
        let all = perFile.flatMap { $0 }
        guard !all.isEmpty else { return report }

        // Reordered: lines outside the longest strictly increasing run of seqs.
        let keep = longestIncreasing(all.map(\.entry.seq))
        var bySeq: [Int: Line] = [:]
        var highest = Int.min
        for (i, line) in all.enumerated() {
            let before = highest
            highest = max(highest, line.entry.seq)
            if let first = bySeq[line.entry.seq] {
                report.findings.append(.duplicated(seq: line.entry.seq, first.position, line.position))
                continue
            }
            if !keep.contains(i) {
                report.findings.append(.reordered(line.position, seq: line.entry.seq, after: before == Int.min ? nil : before))
            }
            bySeq[line.entry.seq] = line
        }

        let ordered = bySeq.values.sorted { $0.entry.seq < $1.entry.seq }
        report.firstSeq = ordered.first?.entry.seq
        report.lastSeq = ordered.last?.entry.seq
        if let first = ordered.first {
            if first.entry.seq == 0 {
                if first.entry.prev != AuditChain.genesis { report.findings.append(.badStart(first.position)) }
            } else {
                report.notes.append("starts at seq \(first.entry.seq) (\(first.position)): it continues an earlier file that was not given")
            }
        }
        for (a, b) in zip(ordered, ordered.dropFirst()) {
            if b.entry.seq > a.entry.seq + 1 {
                report.findings.append(.removed((a.entry.seq + 1)...(b.entry.seq - 1), after: a.position, before: b.position))
            } else if b.entry.prev != a.entry.hash {
                if a.fileIndex != b.fileIndex && a.isLastOfFile && b.isFirstOfFile {
                    report.findings.append(.brokenLink(from: a.position, to: b.position))
                } else {
                    report.findings.append(.edited(a.position, seq: a.entry.seq, next: b.position))
                }
            }
        }

        let expectedID = AuditChain.keyID(key)
        for line in ordered {
            let e = line.entry
            switch e.type {
            case .signature:
                let keyID = e.string("key_id") ?? ""
                guard keyID == expectedID else {
                    report.findings.append(.wrongKey(line.position, seq: e.seq, keyID: String(keyID.prefix(32)), expected: expectedID))
                    continue
                }
                guard let sig = e.string("sig").flatMap({ Data(base64Encoded: $0) }),
                      key.isValidSignature(sig, for: AuditChain.signedMessage(seq: e.seq, prev: e.prev, at: e.at, keyID: keyID)) else {
                    report.findings.append(.badSignature(line.position, seq: e.seq))
                    continue
                }
                report.signatures += 1
                report.signedThrough = max(report.signedThrough ?? -1, e.seq)
            case .open:
                if let torn = e.ints["repaired_torn_bytes"] {
                    report.notes.append("seq \(e.seq) (\(line.position)): at start the daemon cut off a torn last line of \(torn) bytes"
                                        + " (sha256 \(e.string("repaired_torn_sha256") ?? "?")), left by a crash mid-append")
                }
            case .request:
                break
            }
        }
        if let last = report.lastSeq, (report.signedThrough ?? -1) < last {
            report.unsigned = ((report.signedThrough ?? ((report.firstSeq ?? 0) - 1)) + 1)...last
        }
        return report
    }

    /// Indices of one longest strictly increasing subsequence (patience sorting, O(n log n)).
    static func longestIncreasing(_ values: [Int]) -> Set<Int> {
        var tails: [Int] = []          // index into values of the smallest tail of each length
        var parent = [Int](repeating: -1, count: values.count)
        for (i, v) in values.enumerated() {
            var lo = 0, hi = tails.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if values[tails[mid]] < v { lo = mid + 1 } else { hi = mid }
            }
            if lo > 0 { parent[i] = tails[lo - 1] }
            if lo == tails.count { tails.append(i) } else { tails[lo] = i }
        }
        var result = Set<Int>()
        var k = tails.last ?? -1
        while k >= 0 { result.insert(k); k = parent[k] }
        return result
    }
}
