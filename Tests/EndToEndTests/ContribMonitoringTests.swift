import Foundation
import Testing
import TestSupport

/// contrib/prometheus/writebackd-rules.yml and contrib/grafana/writebackd.json: the rules pass
/// `promtool check rules` (Debian's prometheus package), and every writebackd_* metric that the
/// rules or the dashboard's queries name is one a live daemon (real slapd, one real reset) exposes
/// on /metrics, so neither can silently drift from the daemon.
@Suite("contrib: Prometheus rules and Grafana dashboard")
struct ContribMonitoringTests {
    static let root: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()
    static let rules = root + "/contrib/prometheus/writebackd-rules.yml"
    static let dashboard = root + "/contrib/grafana/writebackd.json"

    /// writebackd_* names in a query text (a name ends with a letter: "writebackd_*" in prose is not one).
    static func metricNames(in text: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: "writebackd_[a-z_]*[a-z]")
        let range = NSRange(text.startIndex..., in: text)
        return Set(regex.matches(in: text, range: range).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
    }

    /// The queries: every `expr` of the rules (comments and annotations left out) and every
    /// target expression and variable query of the dashboard.
    static func namedMetrics() throws -> (rules: Set<String>, dashboard: Set<String>) {
        let yaml = try String(contentsOfFile: rules, encoding: .utf8)
        var exprs: [String] = []
        var inBlock = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("expr:") {
                let rest = trimmed.dropFirst(5).trimmingCharacters(in: .whitespaces)
                inBlock = rest == "|"
                if !inBlock { exprs.append(rest) }
            } else if inBlock, line.hasPrefix("            ") {
                exprs.append(trimmed)
            } else {
                inBlock = false
            }
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dashboard)))
        var queries: [String] = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, v) in object {
                    if (key == "expr" || key == "query" || key == "definition"), let s = v as? String { queries.append(s) }
                    walk(v)
                }
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(json)
        return (metricNames(in: exprs.joined(separator: "\n")), metricNames(in: queries.joined(separator: "\n")))
    }

    @Test("promtool check rules passes on the shipped rules")
    func promtool() throws {
        let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let path = try #require(promtool, "promtool missing: scripts/install-deps.sh installs Debian's prometheus package")
        let r = try ToolRunner.run(path, ["check", "rules", Self.rules])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("SUCCESS: 7 rules found"), "\(r.stdout)")
    }

    @Test("every metric the rules and the dashboard name is on a live daemon's /metrics")
    func metricsExist() async throws {
        let (ruleNames, dashboardNames) = try Self.namedMetrics()
        #expect(ruleNames.count >= 5 && dashboardNames.count >= 6, "\(ruleNames) \(dashboardNames)")
        try await withSlapd { slapd in
            let setup = try E2ESetup(slapd: slapd, options: .init(pollIntervalMs: 100))
            defer { setup.cleanup() }
            let daemon = try setup.daemon()
            defer { daemon.stop() }
            #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
            let ids = try await setup.enqueueResets(1, users: ["alice"])
            let queue = try setup.queue()
            #expect(await eventually(timeout: 60) { (try? await queue.summary(id: ids[0]))?.state.isTerminal == true })
            var exposed = Set<String>()
            // The monitor refreshes gauges every few seconds: wait for the directory gauge too.
            #expect(try await eventually(timeout: 30, every: .milliseconds(500)) {
                let r = try run(ctl: ["metrics", "--socket", setup.socketPath])
                exposed = []
                for line in r.stdout.split(separator: "\n") {
                    if line.hasPrefix("# TYPE ") {
                        exposed.insert(String(line.dropFirst(7).prefix { $0 != " " }))
                    } else if !line.hasPrefix("#") {
                        exposed.insert(String(line.prefix { $0 != "{" && $0 != " " }))
                    }
                }
                return exposed.contains("writebackd_directory_up") && exposed.contains("writebackd_outbox_messages")
            })
            for name in ruleNames.union(dashboardNames).sorted() {
                #expect(exposed.contains(name), "\(name) is named in contrib/ but not exposed: \(exposed.sorted())")
            }
        }
    }
}
