import ArgumentParser
import AuditTrail
import Foundation
import RequestCodec
import WritebackConfig

/// `writebackctl audit verify|show`: the auditor's side of `<state dir>/audit.jsonl`.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the tamper-evident audit trail, or show what it says about a user.",
        subcommands: [AuditVerify.self, AuditShow.self])
}

/// `writebackctl audit verify FILE… --key PUB [--json] [--strict]`. Exit 0: the trail is as
/// the daemon wrote it; 1: a line was edited, removed, reordered, or a signature fails (each
/// named); 2: a file or the key cannot be read.
struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain and batch signatures; name every edited, removed or reordered line.",
        discussion: """
            Give the current file and, to check across rotations, the rotated ones beside it
            (audit-*.jsonl; any order). Lines after the last signature are reported as unsigned;
            with --strict they fail the check (a trail the daemon closed ends with a signature).
            """)

    @Argument(help: "Trail files (audit.jsonl and rotated audit-*.jsonl).")
    var files: [String]
    @Option(name: .long, help: "The audit public key (audit-signing.pub).")
    var key: String
    @Flag(name: .long, help: "Print {\"ok\",\"lines\",\"first_seq\",\"last_seq\",\"signatures\",\"unsigned\",\"findings\":[{\"cause\",\"message\"}],\"notes\"}.")
    var json = false
    @Flag(name: .long, help: "Fail when lines are not covered by a signature.")
    var strict = false

    func run() async throws {
        let loaded = Swift.Result { () throws(KeyFileError) in try PEMKeys.signingPublicKey(path: key) }
        guard case .success(let publicKey) = loaded else {
            if case .failure(let error) = loaded { throw failure("\(error)") }
            throw failure("cannot read \(key)")
        }
        var inputs: [AuditVerifier.File] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { throw failure("\(file): cannot read") }
            inputs.append(.init(name: file, bytes: [UInt8](data)))
        }
        let report = AuditVerifier.verify(inputs, key: publicKey)
        let ok = report.ok && !(strict && report.unsigned != nil)
        print(json ? Self.json(report, ok: ok) : Self.text(report, ok: ok))
        if !ok { throw ExitCode(1) }
    }

    private func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("writebackctl audit verify: \(message)\n".utf8))
        return ExitCode(2)
    }

    static func text(_ r: AuditVerifier.Report, ok: Bool) -> String {
        var lines = r.findings.map { "FAIL \($0)" }
        lines += r.notes.map { "note \($0)" }
        if let u = r.unsigned { lines.append("\(ok ? "warn" : "FAIL") unsigned: seq \(u.lowerBound)-\(u.upperBound) not yet covered by a signature") }
        let range = r.firstSeq.map { "seq \($0)-\(r.lastSeq ?? $0)" } ?? "no lines"
        lines.append("\(ok ? "ok" : "FAILED"): \(r.lines) lines (\(range)) in \(r.files.count) file(s), \(r.signatures) good signature(s), \(r.findings.count) problem(s)")
        return lines.joined(separator: "\n")
    }

    static func json(_ r: AuditVerifier.Report, ok: Bool) -> String {
        func int(_ i: Int?) -> JSONValue { i.map { .number(String($0)) } ?? .null }
        let value: JSONValue = JSONValue.object([
            "ok": .bool(ok), "lines": int(r.lines), "first_seq": int(r.firstSeq), "last_seq": int(r.lastSeq),
            "signatures": int(r.signatures), "signed_through": int(r.signedThrough),
            "unsigned": r.unsigned.map { JSONValue.array([int($0.lowerBound), int($0.upperBound)]) } ?? JSONValue.null,
            "findings": JSONValue.array(r.findings.map { JSONValue.object(["cause": .string($0.cause), "message": .string($0.description)]) }),
            "notes": JSONValue.strings(r.notes),
        ])
        return String(decoding: value.serialized(), as: UTF8.self)
    }
}

/// `writebackctl audit show --user NAME [--since T] [--config PATH | --file FILE…] [--json]`.
struct AuditShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Who reset or unlocked this account, when, on whose behalf (from the audit trail).",
        discussion: """
            Reads the trail the configuration names ([audit] path, with its rotated files) or the
            files given with --file. It does not verify the trail: run `audit verify` for that.
            """)

    @Option(name: .long, help: "The account: the name the request used, its DN, or the name part of name@domain.")
    var user: String
    @Option(name: .long, help: "Only lines from this time on: RFC 3339, a date (2026-01-31), or an age (90m, 36h, 7d).")
    var since: String?
    @Option(name: .long, help: "Configuration file (gives [audit] path).")
    var config: String = ConfigLoader.defaultPath
    @Option(name: .long, help: "Read these trail files instead of the configured one.")
    var file: [String] = []
    @Flag(name: .long, help: "Print a JSON array of the matching lines.")
    var json = false

    func run() async throws {
        var since: Date?
        if let text = self.since {
            guard let date = AuditQuery.since(text, now: Date()) else { throw failure("--since \"\(text)\": not a time (2026-01-31T08:00:00Z, 2026-01-31, 36h, 7d)") }
            since = date
        }
        var paths = file
        if paths.isEmpty {
            do { paths = AuditFiles.trail(current: try ConfigLoader.load(path: config).audit.path) } catch { throw failure("\(error)") }
            if paths.isEmpty { throw failure("no audit trail at the configured [audit] path") }
        }
        var entries: [AuditEntry] = []
        var raw: [String] = []
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else { throw failure("\(path): cannot read") }
            for line in AuditLines([UInt8](data)).lines {
                guard let entry = try? AuditEntry.parse(line) else { continue }
                entries.append(entry)
                raw.append(String(decoding: line, as: UTF8.self))
            }
        }
        let hits = Set(AuditQuery.select(entries, user: user, since: since).map(\.seq))
        if json {
            let lines = zip(entries, raw).filter { hits.contains($0.0.seq) }.map(\.1)
            print("[" + lines.joined(separator: ",") + "]")
        } else {
            let shown = entries.filter { hits.contains($0.seq) }
            if shown.isEmpty { print("no audit lines for \(user)\(self.since.map { " since \($0)" } ?? "")") }
            for e in shown { print(Self.text(e)) }
        }
    }

    static func text(_ e: AuditEntry) -> String {
        func s(_ k: String) -> String { e.string(k) ?? "-" }
        var line = "\(e.at)  \(s("kind"))  \(s("outcome"))"
        if let detail = e.string("detail") { line += " (\(detail))" }
        line += "  user \(s("user"))"
        if let dn = e.string("user_dn") { line += " [\(dn)]" }
        if let directory = e.string("directory") { line += " in \(directory)" }
        line += "  by \(s("initiator"))  request \(s("request_id"))  seq \(e.seq)"
        return line
    }

    private func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("writebackctl audit show: \(message)\n".utf8))
        return ExitCode(2)
    }
}
