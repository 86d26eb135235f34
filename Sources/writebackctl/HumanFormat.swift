import ControlSocket
import Foundation

/// Plain-text renderings of control-socket replies for people (scripts use `--json`).
enum HumanFormat {
    static func status(_ s: JSONValue) -> String {
        var lines: [String] = []
        func row(_ label: String, _ value: String) { lines.append(label.padding(toLength: 17, withPad: " ", startingAt: 0) + value) }
        row("state:", s["state"]?.stringValue ?? "?")
        row("version:", s["version"]?.stringValue ?? "?")
        row("uptime:", duration(s["uptime_seconds"]?.doubleValue ?? 0))
        var config = s["config_loaded_at"]?.stringValue ?? "?"
        if let file = s["config_file"]?.stringValue { config += " (\(file))" }
        row("config loaded:", config)
        if let error = s["config_error"]?.stringValue { row("config error:", error + " (previous configuration in use)") }
        if let queue = s["queue"]?.objectValue {
            let order = ["pending", "in_progress", "succeeded", "rejected", "failed"]
            row("queue:", order.map { "\($0) \(Int(queue[$0]?.doubleValue ?? 0))" }.joined(separator: ", "))
        }
        if let oldest = s["oldest_pending_seconds"]?.doubleValue { row("oldest pending:", duration(oldest)) }
        if let t = s["throughput"] {
            row("throughput:", "\(Int(t["last_minute"]?.doubleValue ?? 0))/min, \(Int(t["last_hour"]?.doubleValue ?? 0))/h")
        }
        row("last success:", s["last_success_at"]?.stringValue ?? "never")
        if let e = s["last_error"]?.stringValue { row("last error:", "\(s["last_error_at"]?.stringValue ?? "") \(e)") }
        if let backlog = s["outbox_backlog"]?.doubleValue { row("outbox backlog:", "\(Int(backlog))") }
        if let wakeup = s["wakeup"]?.stringValue { row("wake-up:", wakeup == "poll" ? "poll only" : "\(wakeup), poll as a safety net") }
        if let owner = s["owner"]?.stringValue { row("owner:", owner) }
        if let owners = s["owners"]?.arrayValue, !owners.isEmpty {
            lines.append("in progress by owner:")
            lines.append(table(header: ["OWNER", "HELD", "LEASE ENDS", "IDS"], rows: owners.map {
                [$0["owner"]?.stringValue ?? "?", "\(Int($0["in_progress"]?.doubleValue ?? 0))", $0["lease_expires_at"]?.stringValue ?? "-",
                 ($0["ids"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")]
            }, indent: "  "))
        }
        let directories = s["directories"]?.arrayValue ?? []
        if directories.count > 1 {
            lines.append("directories:")
            lines.append(table(header: ["NAME", "STATE", "ROUTES", "IN FLIGHT"], rows: directories.map { d in
                var routes = (d["routes"]?.arrayValue ?? []).compactMap(\.stringValue)
                if d["default"]?.boolValue == true { routes.append("(default)") }
                return [d["name"]?.stringValue ?? "?", d["state"]?.stringValue ?? "?",
                        routes.isEmpty ? "-" : routes.joined(separator: " "), "\(Int(d["in_flight"]?.doubleValue ?? 0))"]
            }, indent: "  "))
        }
        let endpoints = s["directory"]?.arrayValue ?? []
        lines.append("directory:")
        lines.append(table(header: ["NAME", "URI", "UP", "LAST ERROR"], rows: endpoints.map {
            [$0["name"]?.stringValue ?? "-", $0["uri"]?.stringValue ?? "?", $0["up"]?.boolValue == true ? "yes" : "no",
             $0["last_error"]?.stringValue ?? "-"]
        }, indent: "  "))
        return lines.joined(separator: "\n")
    }

    static func requests(_ rows: [JSONValue], withOwner: Bool = false) -> String {
        if rows.isEmpty { return "no requests" }
        // Several directories: the daemon names each row's; --owner adds the owner.
        let named = rows.contains { $0.objectValue?["directory"] != nil }
        let header = ["ID", "STATE", "OUTCOME", "DETAIL", "ATTEMPTS"] + (named ? ["DIRECTORY"] : []) + ["CREATED", "COMPLETED"]
            + (withOwner ? ["OWNER"] : [])
        return table(header: header, rows: rows.map {
            [$0["id"]?.stringValue ?? "?", $0["state"]?.stringValue ?? "?", $0["outcome"]?.stringValue ?? "-",
             $0["detail"]?.stringValue ?? "-", "\(Int($0["attempts"]?.doubleValue ?? 0))"]
                + (named ? [$0["directory"]?.stringValue ?? "-"] : [])
                + [$0["created_at"]?.stringValue ?? "-", $0["completed_at"]?.stringValue ?? "-"]
                + (withOwner ? [$0["owner"]?.stringValue ?? "-"] : [])
        })
    }

    static func table(header: [String], rows: [[String]], indent: String = "") -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            indent + row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        if s < 60 { return seconds < 10 ? String(format: "%.1f s", seconds) : "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        if s < 86400 { return "\(s / 3600) h \(s % 3600 / 60) min" }
        return "\(s / 86400) d \(s % 86400 / 3600) h"
    }
}
