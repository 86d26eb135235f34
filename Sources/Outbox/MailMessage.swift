import Foundation

/// One text/plain message in UTF-8, rendered to the bytes the outbox stores and pipes to
/// sendmail. The transfer encoding is chosen from the body: `7bit` for plain ASCII,
/// quoted-printable when a few characters are not ASCII (an accented organisation name),
/// base64 when most are (Chinese).
struct MailMessage: Sendable {
    enum TransferEncoding: String, Sendable {
        case sevenBit = "7bit"
        case quotedPrintable = "quoted-printable"
        case base64
    }

    var from: MailAddress
    var to: [MailAddress]
    var subject: String
    var date: Date
    var messageID: String
    /// BCP 47 tag for `Content-Language`.
    var language: String
    /// Extra headers, already ASCII (e.g. `Auto-Submitted`).
    var extraHeaders: [(String, String)] = []
    var body: String

    /// The body with LF line ends and exactly one final newline.
    var normalizedBody: String {
        // Foundation's replacingOccurrences cost 0.7 % of the daemon's CPU in the drain
        // profile although a template body rarely has a CR: only then is it called.
        var text = body.utf8.contains(0x0D) ? body.replacingOccurrences(of: "\r\n", with: "\n") : body
        while text.hasSuffix("\n\n") { text.removeLast() }
        if !text.hasSuffix("\n") { text += "\n" }
        return text
    }

    var transferEncoding: TransferEncoding { Self.transferEncoding(for: normalizedBody) }

    static func transferEncoding(for text: String) -> TransferEncoding {
        var nonASCII = 0, total = 0, line = 0, longestLine = 0, hasNUL = false
        for byte in text.utf8 {
            total += 1
            if byte >= 0x80 { nonASCII += 1 }
            if byte == 0 { hasNUL = true }
            if byte == 0x0A { longestLine = max(longestLine, line); line = 0 } else { line += 1 }
        }
        longestLine = max(longestLine, line)
        if nonASCII == 0, longestLine <= 998, !hasNUL { return .sevenBit }
        return nonASCII * 5 < total - nonASCII ? .quotedPrintable : .base64
    }

    func rendered() -> Data {
        let text = normalizedBody
        let encoding = Self.transferEncoding(for: text)
        var lines: [String] = [
            "Date: \(MailDate.rfc5322(date))",
            "From: \(from.headerValue)",
            "To: \(to.map(\.headerValue).joined(separator: ",\n "))",
            "Subject: \(MIMEEncoding.unstructured(subject))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: \(encoding.rawValue)",
            "Content-Language: \(language)",
        ]
        lines += extraHeaders.map { "\($0.0): \($0.1)" }
        let encodedBody: String
        switch encoding {
        case .sevenBit: encodedBody = text
        case .quotedPrintable: encodedBody = MIMEEncoding.quotedPrintable(String(text.dropLast())) + "\n"
        case .base64: encodedBody = MIMEEncoding.base64Lines(Data(text.utf8)) + "\n"
        }
        return Data((lines.joined(separator: "\n") + "\n\n" + encodedBody).utf8)
    }
}
