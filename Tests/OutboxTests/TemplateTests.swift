import Foundation
import Logging
import Testing
import WritebackCore
@testable import Outbox

@Suite("Outbox templates, locales and encodings")
struct TemplateTests {
    @Test("locale tags map to en, zh-CN, zh-TW", arguments: [
        (nil, "en"), ("", "en"), ("en", "en"), ("en-GB", "en"), ("fr-FR", "en"), ("zho", "en"),
        ("zh", "zh-CN"), ("zh-CN", "zh-CN"), ("zh_CN", "zh-CN"), ("zh-SG", "zh-CN"), ("zh-Hans", "zh-CN"),
        ("zh-Hans-HK", "zh-CN"), ("ZH-hans-cn", "zh-CN"),
        ("zh-TW", "zh-TW"), ("zh-HK", "zh-TW"), ("zh-MO", "zh-TW"), ("zh-Hant", "zh-TW"), ("zh-Hant-CN", "zh-TW"),
        ("zh_tw", "zh-TW"), ("zh-yue-HK", "zh-TW"),
    ] as [(String?, String)])
    func locales(_ tag: String?, _ expected: String) {
        #expect(OutboxLocale(tag: tag).rawValue == expected)
    }

    @Test("the compiled-in templates equal templates/*.txt", arguments: TemplateName.allCases)
    func builtinMatchesFiles(_ name: TemplateName) throws {
        for locale in OutboxLocale.allCases {
            let url = OutboxFixture.repoRoot.appendingPathComponent("templates/\(name.rawValue).\(locale.rawValue).txt")
            let file = try String(contentsOf: url, encoding: .utf8)
            #expect(BuiltinTemplates.source(name, locale) + "\n" == file, "run python3 templates/embed.py")
        }
    }

    @Test("sections: inline, standalone lines, inverted; unknown names refused")
    func renderer() throws {
        let template = try MessageTemplate(parsing: """
            Subject: {{organization}}{{#unlocked}} (unlocked){{/unlocked}}

            A {{account}}{{#by_admin}} by {{admin}}{{/by_admin}}.
              {{#must_change}}
            Must change.
            {{/must_change}}
            {{^has_mail}}
            No mail.
            {{/has_mail}}
            End
            """, file: "t")
        let (subject, body) = template.render(values: ["organization": "Org", "account": "u", "admin": "Al"],
                                              flags: ["unlocked": true, "by_admin": true, "must_change": false, "has_mail": false])
        #expect(subject == "Org (unlocked)")
        #expect(body == "A u by Al.\nNo mail.\nEnd")
        #expect(throws: OutboxError.template(file: "t", reason: "unknown placeholder {{password}}")) {
            try MessageTemplate(parsing: "Subject: x\n\n{{password}}", file: "t")
        }
        #expect(throws: OutboxError.self) { try MessageTemplate(parsing: "no subject", file: "t") }
        #expect(throws: OutboxError.self) { try MessageTemplate(parsing: "Subject: x\n\n{{#unlocked}}open", file: "t") }
        #expect(throws: OutboxError.self) { try MessageTemplate(parsing: "Subject: x\n\n{{/unlocked}}", file: "t") }
    }

    @Test("an organisation's template overrides the built-in one; a broken one is reported and ignored")
    func overrides() async throws {
        let dir = OutboxFixture.temporaryDirectory("tpl")
        defer { OutboxFixture.remove(dir) }
        let templates = dir + "/templates"
        try FileManager.default.createDirectory(atPath: templates, withIntermediateDirectories: true)
        try "Subject: [{{organization}}] Password reset for {{account}}\n\nDear {{display_name}}, done at {{time}}.\n"
            .write(toFile: templates + "/reset.en.txt", atomically: true, encoding: .utf8)
        try "Subject: x\n\n{{new_password}}\n".write(toFile: templates + "/reset.zh-CN.txt", atomically: true, encoding: .utf8)
        try "Subject: x\n\n".write(toFile: templates + "/rest.en.txt", atomically: true, encoding: .utf8)

        let (loaded, problems) = OutboxTemplates.load(overridesIn: templates)
        #expect(loaded.overridden == [templates + "/reset.en.txt"])
        #expect(problems.count == 2)
        #expect(throws: OutboxError.self) { try OutboxTemplates.validate(overridesIn: templates) }

        var config = OutboxFixture.config(dir + "/outbox")
        config.templatesDir = templates
        let writer = OutboxWriter(config: config, logger: Logger(label: "test"))
        let en = UUID().uuidString.lowercased(), zh = UUID().uuidString.lowercased()
        try await writer.confirm(OutboxFixture.confirmation(id: en))
        try await writer.confirm(OutboxFixture.confirmation(id: zh, locale: "zh-CN"))
        let parsed = try OutboxFixture.parse(["\(dir)/outbox/new/\(en)-1.eml", "\(dir)/outbox/new/\(zh)-1.eml"])
        #expect(parsed[0].subject == "[Example Org] Password reset for zwei")
        #expect(parsed[0].body == "Dear Wei Zhang, done at 2026-11-26 02:37 UTC.\n")
        #expect(parsed[1].subject?.contains("您的密码已重置") == true)   // built-in, the override was broken
    }

    @Test("encoded-words stay within 76 characters per line and decode back")
    func encodedWords() {
        let samples = ["示例集团有限公司：您的密码已重置，账户已解锁" + String(repeating: "很长的主题", count: 12),
                       "Zoë 👩‍👩‍👧‍👦 family e\u{301}motion", String(repeating: "é", count: 100)]
        for sample in samples {
            for used in [9, 6, 4] {
                let words = MIMEEncoding.encodedWords(sample, used: used)
                #expect(used + words[0].count <= 76)
                #expect(words.dropFirst().allSatisfy { $0.count + 1 <= 76 })
                #expect(MIMEEncoding.decodeHeader(words.joined(separator: "\n ")) == sample)
            }
        }
        #expect(MIMEEncoding.decodeHeader("plain  text") == "plain  text")
        #expect(MIMEEncoding.unstructured("short") == "short")
    }

    @Test("sendmail command lines split like a shell, without one", arguments: [
        ("/usr/sbin/sendmail -t -i", ["/usr/sbin/sendmail", "-t", "-i"]),
        ("/usr/bin/msmtp  -C '/etc/my msmtp.rc' -t", ["/usr/bin/msmtp", "-C", "/etc/my msmtp.rc", "-t"]),
        ("a \"b \\\"c\\\" $HOME\" d\\ e", ["a", "b \"c\" $HOME", "d e"]),
        ("x ';' `id` | y", ["x", ";", "`id`", "|", "y"]),
        ("x ''", ["x", ""]),
    ])
    func splitCommand(_ line: String, _ words: [String]) throws {
        #expect(try SendmailCommand.split(line) == words)
    }

    @Test("bad sendmail command lines are refused")
    func badCommands() {
        for line in ["", "   ", "/bin/x 'open", "/bin/x \"open", "/bin/x \\", "/nonexistent/sendmail -t"] {
            #expect(throws: OutboxError.self) { try SendmailCommand(parsing: line) }
        }
        #expect(throws: Never.self) { try SendmailCommand(parsing: "msmtp -t") }
    }
}
