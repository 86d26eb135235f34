import Foundation
import WritebackCore

/// Who a message is for.
public enum OutboxAudience: String, Sendable, Hashable, Codable {
    /// The user whose account it is (mail and alternate mail).
    case user
    /// The `admin_notify` addresses, for an administrator's reset.
    case admin
}

/// One message of a request, rendered and ready to store. `slot` numbers the request's
/// messages (`<request-id>-<slot>.eml`) and is fixed per audience — 1 for the user, 2 for the
/// administrators — so a repeated call recomputes the same slots and finds what already exists.
struct ComposedMessage: Sendable {
    var slot: Int
    var audience: OutboxAudience
    var recipients: [MailAddress]
    var subject: String
    var locale: OutboxLocale
    var messageID: String
    var data: Data
}

/// What a request produces for one slot.
enum ComposedSlot: Sendable {
    case message(ComposedMessage)
    /// Nothing to send for this slot, and why (for `outbox.jsonl`).
    case skipped(slot: Int, audience: OutboxAudience, locale: OutboxLocale, reason: String)
}

/// Turns a `Confirmation` into messages: picks the language and template, fills in the values,
/// and renders RFC 5322 with a deterministic `Message-ID` and `Date` (the time of the change),
/// so that rendering the same confirmation twice gives the same bytes.
struct ConfirmationComposer: Sendable {
    static let userSlot = 1
    static let adminSlot = 2

    var from: MailAddress
    var organization: String
    var adminNotify: [MailAddress]
    var templates: OutboxTemplates

    func compose(_ confirmation: Confirmation) -> (slots: [ComposedSlot], invalidAddresses: [String]) {
        let locale = OutboxLocale(tag: confirmation.locale)
        let (userAddresses, invalid) = MailAddress.deduplicated(confirmation.mail + confirmation.alternateMail)
        let display = confirmation.displayName.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        var adminName = ""
        if case .admin(let name) = confirmation.initiator { adminName = name }
        let values: [String: String] = [
            "organization": organization,
            "account": confirmation.accountName,
            "display_name": display ?? confirmation.accountName,
            "time": MailDate.display(confirmation.at),
            "admin": adminName,
            "request_id": confirmation.requestId,
            "user_mail": userAddresses.map(\.address).joined(separator: ", "),
        ].mapValues(MailAddress.sanitize)
        let flags: [String: Bool] = [
            "unlocked": confirmation.kind == .reset && confirmation.unlocked,
            "must_change": confirmation.mustChange,
            "by_admin": confirmation.initiator.isAdmin,
            "has_mail": !userAddresses.isEmpty,
        ]
        var slots: [ComposedSlot] = []
        let userTemplate: TemplateName = switch confirmation.kind {
        case .reset: .reset
        case .change: .change
        case .unlock: .unlock
        }
        if userAddresses.isEmpty {
            let reason = invalid.isEmpty ? "no mail attribute" : "no valid mail address"
            slots.append(.skipped(slot: Self.userSlot, audience: .user, locale: locale, reason: reason))
        } else {
            let recipients = userAddresses.map { MailAddress(display, $0.address) ?? $0 }
            slots.append(.message(render(userTemplate, Self.userSlot, .user, recipients, locale, values, flags, confirmation)))
        }
        if confirmation.kind == .reset, confirmation.initiator.isAdmin, !adminNotify.isEmpty {
            slots.append(.message(render(.adminReset, Self.adminSlot, .admin, adminNotify, locale, values, flags, confirmation)))
        }
        return (slots, invalid)
    }

    private func render(_ name: TemplateName, _ slot: Int, _ audience: OutboxAudience, _ recipients: [MailAddress],
                        _ locale: OutboxLocale, _ values: [String: String], _ flags: [String: Bool],
                        _ confirmation: Confirmation) -> ComposedMessage {
        let (subject, body) = templates.template(name, locale).render(values: values, flags: flags)
        let messageID = "writebackd.\(confirmation.requestId).\(slot)@\(from.domain)"
        let message = MailMessage(
            from: from, to: recipients, subject: subject, date: confirmation.at, messageID: messageID,
            language: locale.rawValue,
            extraHeaders: [
                // RFC 3834: no vacation or out-of-office replies to an automatic message.
                ("Auto-Submitted", "auto-generated"),
                ("X-Auto-Response-Suppress", "All"),
                ("X-Writebackd-Request-Id", confirmation.requestId),
                ("X-Writebackd-Kind", confirmation.kind.rawValue),
                ("X-Writebackd-Audience", audience.rawValue),
            ],
            body: body)
        return ComposedMessage(slot: slot, audience: audience, recipients: recipients, subject: subject,
                               locale: locale, messageID: messageID, data: message.rendered())
    }
}
