@testable import AuditTrail
import Crypto
import Foundation
import Testing

/// A real trail (written by AuditWriter) is edited, cut, reordered and forged line by line;
/// the verifier must name each change with its cause and line.
@Suite("Audit trail: verify names every change")
struct AuditVerifierTests {
    @Test("an untouched trail verifies: chain intact, every line signed, nothing unsigned")
    func clean() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try await f.writeTrail(25)
        let lines = try f.lines()
        // open + 25 requests + signatures every 10 lines + the closing one.
        #expect(lines.count == 1 + 25 + 3)
        let report = f.verify(lines)
        #expect(report.ok, "\(report.findings)")
        #expect(report.unsigned == nil)
        #expect(report.signatures == 3)
        #expect(report.firstSeq == 0 && report.lastSeq == lines.count - 1)
        #expect(!lines.joined().contains("assword"), "no password field in the trail")
    }

    /// Each tampering, and the cause and 1-based line the verifier must name for it.
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var mutate: @Sendable ([String]) -> [String]
        var cause: String
        var line: Int
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "edit a request's outcome", mutate: { l in
            var l = l; l[4] = l[4].replacingOccurrences(of: "\"outcome\":\"succeeded\"", with: "\"outcome\":\"not_managed\""); return l
        }, cause: "edited", line: 5),
        Case(name: "edit the initiator of the first request", mutate: { l in
            var l = l; l[1] = l[1].replacingOccurrences(of: "\"initiator\":\"self\"", with: "\"initiator\":\"admin:mallory\""); return l
        }, cause: "edited", line: 2),
        Case(name: "edit a signature line's key id", mutate: { l in
            var l = l; let i = l.firstIndex { $0.contains("\"type\":\"signature\"") }!
            l[i] = l[i].replacingOccurrences(of: "\"key_id\":\"", with: "\"key_id\":\"0"); return l
        }, cause: "edited", line: 11),
        Case(name: "delete a request line", mutate: { l in var l = l; l.remove(at: 6); return l }, cause: "removed", line: 6),
        Case(name: "delete three lines", mutate: { l in var l = l; l.removeSubrange(3..<6); return l }, cause: "removed", line: 3),
        Case(name: "swap two adjacent lines", mutate: { l in var l = l; l.swapAt(7, 8); return l }, cause: "reordered", line: 8),
        Case(name: "move a line far ahead", mutate: { l in var l = l; let x = l.remove(at: 3); l.insert(x, at: 15); return l },
             cause: "reordered", line: 16),
        Case(name: "duplicate a line", mutate: { l in var l = l; l.insert(l[5], at: 9); return l }, cause: "duplicated", line: 10),
        Case(name: "replace a line with text", mutate: { l in var l = l; l[12] = "nothing to see here"; return l },
             cause: "not_audit_line", line: 13),
        Case(name: "a line without its seq", mutate: { l in
            var l = l; l[2] = l[2].replacingOccurrences(of: "{\"seq\":2,", with: "{"); return l
        }, cause: "not_audit_line", line: 3),
    ]

    @Test("each tampering is named with its cause and line", arguments: cases)
    func tampering(_ c: Case) async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try await f.writeTrail(25)
        let report = f.verify(c.mutate(try f.lines()))
        #expect(!report.ok)
        let named = report.findings.filter { $0.cause == c.cause }
        #expect(!named.isEmpty, "\(c.name): expected \(c.cause), got \(report.findings)")
        #expect(named.contains { $0.description.contains("audit.jsonl:\(c.line)") }, "\(c.name): \(report.findings.map(\.description))")
    }

    @Test("a rewritten chain (edited line, every later prev recomputed) fails at the next signature")
    func rechained() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try await f.writeTrail(25)
        var lines = try f.lines()
        lines[3] = lines[3].replacingOccurrences(of: "\"outcome\":\"succeeded\"", with: "\"outcome\":\"throttled\"")
        for i in 4..<lines.count {
            let prevHash = AuditChain.hash(Array(lines[i - 1].utf8))
            let old = lines[i].range(of: #""prev":"[0-9a-f]{64}""#, options: .regularExpression)!
            lines[i].replaceSubrange(old, with: "\"prev\":\"\(prevHash)\"")
        }
        let report = f.verify(lines)
        #expect(report.findings.map(\.cause) == ["bad_signature", "bad_signature", "bad_signature"], "\(report.findings)")
        #expect(report.findings.first?.description.contains("audit.jsonl:11") == true, "\(report.findings)")
    }

    @Test("another key's public half: every signature is named as the wrong key")
    func wrongKey() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try await f.writeTrail(12)
        let report = f.verify(try f.lines(), key: Curve25519.Signing.PrivateKey().publicKey)
        #expect(!report.findings.isEmpty && report.findings.allSatisfy { $0.cause == "wrong_key" }, "\(report.findings)")
    }

    @Test("a torn last line is named; cutting lines off the end leaves them unsigned")
    func tornAndTail() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try await f.writeTrail(12)
        let lines = try f.lines()
        var torn = f.bytes(of: lines)
        torn += Array("{\"seq\":99,\"prev\":\"ab".utf8)
        let tornReport = AuditVerifier.verify([.init(name: "audit.jsonl", bytes: torn)], key: f.key.publicKey)
        #expect(tornReport.findings.map(\.cause) == ["torn"])
        #expect(tornReport.findings.first?.description.contains("audit.jsonl:\(lines.count + 1)") == true)

        // Cutting the closing signature off: chain intact, the last lines are reported unsigned.
        let cut = f.verify(Array(lines.dropLast()))
        #expect(cut.ok)
        #expect(cut.unsigned != nil)
    }

    @Test("an unsigned trail (no signing key) verifies its chain and reports every line unsigned")
    func unsignedTrail() async throws {
        let f = try AuditFixture()
        defer { f.cleanup() }
        try await f.writeTrail(5, config: f.config(signed: false))
        let lines = try f.lines()
        let report = f.verify(lines)
        #expect(report.ok && report.signatures == 0)
        #expect(report.unsigned == 0...(lines.count - 1))
    }

    @Test("longest increasing run: a swap excludes one index, a moved line only that line")
    func longestRun() {
        func excluded(_ v: [Int]) -> [Int] { Array(Set(v.indices).subtracting(AuditVerifier.longestIncreasing(v))).sorted() }
        #expect(excluded([0, 1, 2, 3]) == [])
        #expect(excluded([0, 2, 1, 3]).count == 1)
        #expect(excluded([0, 5, 1, 2, 3, 4, 6]) == [1])
        #expect(excluded([]) == [])
    }
}
