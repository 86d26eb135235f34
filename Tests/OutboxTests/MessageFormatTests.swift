import Foundation
import Testing
import WritebackCore
@testable import Outbox

/// One kind of confirmation: what happened and on whose initiative.
struct MessageScenario: Sendable, CustomTestStringConvertible {
    var name: String
    var kind: RequestKind
    var unlocked: Bool
    var mustChange: Bool
    var initiator: Initiator
    var testDescription: String { name }

    static let all: [MessageScenario] = [
        .init(name: "reset-self-unlock", kind: .reset, unlocked: true, mustChange: false, initiator: .user),
        .init(name: "reset-self-must-change", kind: .reset, unlocked: false, mustChange: true, initiator: .user),
        .init(name: "reset-admin-unlock-must-change", kind: .reset, unlocked: true, mustChange: true, initiator: .admin(name: "Alice Admin")),
        .init(name: "change-self", kind: .change, unlocked: false, mustChange: false, initiator: .user),
        .init(name: "unlock-self", kind: .unlock, unlocked: false, mustChange: false, initiator: .user),
        .init(name: "unlock-admin", kind: .unlock, unlocked: false, mustChange: false, initiator: .admin(name: "Bob Ops")),
    ]
}

/// The phrases each language must use for each fact.
struct LocaleExpectations: Sendable, CustomTestStringConvertible {
    var tag: String            // what the request says
    var locale: String         // what the outbox resolves it to
    var from: String
    var fromName: String
    var organization: String
    var displayName: String
    var onBehalf: String
    var byAdmin: String        // followed by the administrator's name
    var unlocked: String
    var mustChange: String
    var serviceDesk: String
    var what: [RequestKind: String]
    var subject: [RequestKind: String]
    var adminNotice: String
    var testDescription: String { tag }

    static let all: [LocaleExpectations] = [
        .init(tag: "en-US", locale: "en", from: "IT Service Desk <noreply@example.org>", fromName: "IT Service Desk",
              organization: "Example Org", displayName: "Wei Zhang",
              onBehalf: "on behalf of your organization", byAdmin: "by the administrator ", unlocked: "Your account was also unlocked.",
              mustChange: "You must choose a new password the next time you sign in.",
              serviceDesk: "contact the Example Org service desk",
              what: [.reset: "was reset", .change: "was changed", .unlock: "was unlocked"],
              subject: [.reset: "Example Org: your password was reset", .change: "Example Org: your password was changed",
                        .unlock: "Example Org: your account was unlocked"],
              adminNotice: "reset the password of Wei Zhang (zwei)"),
        .init(tag: "zh-Hans-CN", locale: "zh-CN", from: "信息技术服务台 <noreply@example.cn>", fromName: "信息技术服务台",
              organization: "示例集团有限公司", displayName: "张伟",
              onBehalf: "代表您的组织（示例集团有限公司）", byAdmin: "管理员 ", unlocked: "您的账户也已解锁。",
              mustChange: "下次登录时，您必须设置新密码。", serviceDesk: "请立即联系 示例集团有限公司 服务台",
              what: [.reset: "重置了您的账户 zwei 的密码", .change: "的密码已于 2026-11-26 02:37 UTC 更改", .unlock: "解锁了您的账户 zwei"],
              subject: [.reset: "示例集团有限公司：您的密码已重置", .change: "示例集团有限公司：您的密码已更改",
                        .unlock: "示例集团有限公司：您的账户已解锁"],
              adminNotice: "重置了 张伟（zwei）的密码"),
        .init(tag: "zh-HK", locale: "zh-TW", from: "資訊服務台 <noreply@example.tw>", fromName: "資訊服務台",
              organization: "範例股份有限公司", displayName: "張偉",
              onBehalf: "代表您的組織（範例股份有限公司）", byAdmin: "管理員 ", unlocked: "您的帳戶也已解除鎖定。",
              mustChange: "下次登入時，您必須設定新密碼。", serviceDesk: "請立即聯絡 範例股份有限公司 服務台",
              what: [.reset: "您的帳戶 zwei 的密碼", .change: "的密碼已於 2026-11-26 02:37 UTC 變更", .unlock: "解除鎖定您的帳戶 zwei"],
              subject: [.reset: "範例股份有限公司：您的密碼已重設", .change: "範例股份有限公司：您的密碼已變更",
                        .unlock: "範例股份有限公司：您的帳戶已解除鎖定"],
              adminNotice: "重設 張偉（zwei）的密碼"),
    ]
}

@Suite("Outbox messages parsed by Python's email package")
struct MessageFormatTests {
    @Test("every kind and initiator, in every language", arguments: LocaleExpectations.all, MessageScenario.all)
    func messageParses(_ language: LocaleExpectations, _ scenario: MessageScenario) async throws {
        let dir = OutboxFixture.temporaryDirectory("fmt")
        defer { OutboxFixture.remove(dir) }
        let password = "Pw-\(UUID().uuidString.prefix(12))!"   // generated per test, never given to the outbox
        let config = OutboxFixture.config(dir, from: language.from, organization: language.organization,
                                          adminNotify: ["SecOps <secops@example.org>", "secops@example.org", "cio@example.org"])
        let writer = OutboxWriter(config: config, logger: .init(label: "test"))
        let id = UUID().uuidString.lowercased()
        let confirmation = OutboxFixture.confirmation(
            id: id, kind: scenario.kind, unlocked: scenario.unlocked, mustChange: scenario.mustChange,
            initiator: scenario.initiator, displayName: language.displayName, locale: language.tag)
        try await writer.confirm(confirmation)

        let isAdminReset = scenario.kind == .reset && scenario.initiator.isAdmin
        #expect(OutboxFixture.files(dir, "new") == (isAdminReset ? ["\(id)-1.eml", "\(id)-2.eml"] : ["\(id)-1.eml"]))
        let paths = OutboxFixture.files(dir, "new").map { "\(dir)/new/\($0)" }
        let parsed = try OutboxFixture.parse(paths)
        try #require(parsed.count == paths.count)
        let domain = String(language.from.split(separator: "@").last!.dropLast())

        for (index, message) in parsed.enumerated() {
            let raw = try String(contentsOfFile: paths[index], encoding: .utf8)
            #expect(!raw.contains(password) && !message.body.contains(password))
            #expect(message.defects.isEmpty, "defects: \(message.defects)")
            #expect(!message.is_multipart)
            #expect(message.content_type == "text/plain")
            #expect(message.charset == "utf-8")
            #expect(message.headers["mime-version"] == "1.0")
            #expect(message.headers["content-language"] == language.locale)
            #expect(message.headers["auto-submitted"] == "auto-generated")
            #expect(message.raw_header_ascii, "raw headers must be ASCII (RFC 2047)")
            #expect(message.raw_header_lines_max <= 78)
            #expect(message.body_lines_max <= 998)
            #expect(message.cte == (language.locale == "en" ? "7bit" : "base64"))
            #expect(message.date_iso == "2026-11-26T02:37:20+00:00")
            #expect(message.message_id == "<writebackd.\(id).\(index + 1)@\(domain)>")
            #expect(message.from.count == 1 && message.from.first?.name == language.fromName)
            #expect(message.body.contains("2026-11-26 02:37 UTC"))
            #expect(message.body.contains("zwei"))
        }

        // The user's message.
        let user = parsed[0]
        #expect(user.to.map(\.addr) == ["zhang.wei@example.org", "zw@personal.example"])
        #expect(user.to.allSatisfy { $0.name == language.displayName })
        #expect(user.body.contains(language.displayName))
        #expect(user.subject?.hasPrefix(language.subject[scenario.kind]!) == true, "subject: \(user.subject ?? "nil")")
        #expect(user.body.contains(language.what[scenario.kind]!), "body: \(user.body)")
        #expect(user.body.contains(language.serviceDesk))
        switch scenario.initiator {
        case .admin(let name):
            #expect(user.body.contains(language.byAdmin + name))
            #expect(!user.body.contains(language.onBehalf))
        case .user:
            if scenario.kind != .change { #expect(user.body.contains(language.onBehalf)) }
            #expect(!user.body.contains(language.byAdmin))
        }
        #expect(user.body.contains(language.unlocked) == (scenario.kind == .reset && scenario.unlocked))
        #expect(user.body.contains(language.mustChange) == scenario.mustChange)
        #expect(!user.body.contains("{{") && !user.body.contains("\n\n\n"), "template residue: \(user.body)")

        // The administrators' notice: To the deduplicated admin_notify list.
        if isAdminReset {
            let admin = parsed[1]
            #expect(admin.to.map(\.addr) == ["secops@example.org", "cio@example.org"])
            #expect(admin.to.first?.name == "SecOps")
            #expect(admin.body.contains(language.adminNotice), "admin body: \(admin.body)")
            #expect(admin.body.contains(id))
            #expect(admin.body.contains("zhang.wei@example.org"))
            #expect(admin.subject?.contains("Alice Admin") == true)
        }
    }

    @Test("a mostly-ASCII body with accents is quoted-printable and decodes exactly")
    func quotedPrintable() async throws {
        let dir = OutboxFixture.temporaryDirectory("qp")
        defer { OutboxFixture.remove(dir) }
        let organization = "Société Générale d’Exemple"
        let writer = OutboxWriter(config: OutboxFixture.config(dir, organization: organization), logger: .init(label: "test"))
        let id = UUID().uuidString.lowercased()
        try await writer.confirm(OutboxFixture.confirmation(id: id, displayName: "Zoë \"Z\" O'Brien-Łukasz"))
        let message = try #require(try OutboxFixture.parse(["\(dir)/new/\(id)-1.eml"]).first)
        #expect(message.cte == "quoted-printable")
        #expect(message.defects.isEmpty)
        #expect(message.body.contains("contact the \(organization) service desk"))
        #expect(message.subject == "\(organization): your password was reset and your account unlocked")
        #expect(message.to.first?.name == "Zoë \"Z\" O'Brien-Łukasz")
        #expect(message.body_lines_max <= 76)
    }

    @Test("header injection through directory values is impossible")
    func noHeaderInjection() async throws {
        let dir = OutboxFixture.temporaryDirectory("inj")
        defer { OutboxFixture.remove(dir) }
        let writer = OutboxWriter(config: OutboxFixture.config(dir), logger: .init(label: "test"))
        let id = UUID().uuidString.lowercased()
        try await writer.confirm(OutboxFixture.confirmation(
            id: id, displayName: "Eve\r\nBcc: victim@example.org",
            mail: ["eve@example.org\r\nBcc: x@example.org", "ok@example.org"], alternate: ["a@b.c, d@e.f"]))
        let message = try #require(try OutboxFixture.parse(["\(dir)/new/\(id)-1.eml"]).first)
        #expect(message.headers["bcc"] == nil)
        #expect(message.to.map(\.addr) == ["ok@example.org"])
        #expect(message.defects.isEmpty)
    }
}
