import Foundation
import Logging
import Testing
import WritebackDaemon

/// `--log-format json` lines are written by hand (not `JSONEncoder`): each must still parse as
/// one JSON object with the same keys and values, sorted, whatever a value holds.
@Suite struct JSONLogLineTests {
    @Test("hostile values round-trip through a JSON parser", arguments: [
        "plain",
        "quote \" backslash \\ slash /",
        "line\nbreak\r\ttab",
        "nul \u{0} bell \u{7} esc \u{1B}",
        "separators \u{2028} \u{2029}",
        "unicode: Grüße, 密码, 🔑",
        "",
    ])
    func roundTrip(value: String) throws {
        let line = JSONLogHandler.line(ts: "2026-12-07T20:00:00.000Z", level: .notice, message: value, label: "w\"b",
                                       metadata: ["request_id": "r-1", "z": "\(value)"], extra: ["error": .string(value)])
        #expect(!line.contains("\n"))
        #expect(!line.unicodeScalars.contains { $0.value == 0x2028 || $0.value == 0x2029 })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object == ["ts": "2026-12-07T20:00:00.000Z", "level": "notice", "msg": value, "label": "w\"b",
                           "request_id": "r-1", "z": value, "error": value])
        let keys = line.dropFirst().split(separator: ",").compactMap { $0.split(separator: ":").first }
        #expect(keys.first == "\"error\"")
    }

    @Test("an event's metadata overrides the handler's, and the fixed keys win over both")
    func precedence() throws {
        let line = JSONLogHandler.line(ts: "T", level: .info, message: "m", label: "l",
                                       metadata: ["k": "handler", "msg": "spoof"], extra: ["k": "event", "level": "spoof"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object == ["ts": "T", "level": "info", "msg": "m", "label": "l", "k": "event"])
    }
}
