import Foundation

/// What the deliverer needs to know about a message in the outbox, read back from its own
/// headers (the writer puts the request id, kind and audience in `X-Writebackd-*` headers), so
/// that a `sent` or `failed` line in `outbox.jsonl` carries the same fields as the `written`
/// line without a second store that could disagree with the file.
struct StoredMessage: Sendable {
    var requestID: String
    var n: Int
    var audience: OutboxAudience
    var to: [String]
    var subject: String
    var locale: String
    var kind: String
    var messageID: String?

    /// `name` is `<request-id>-<n>.eml`.
    init(name: String, data: Data) {
        let headers = StoredMessage.headers(data)
        let stem = name.hasSuffix(".eml") ? String(name.dropLast(4)) : name
        let dash = stem.lastIndex(of: "-")
        n = dash.flatMap { Int(stem[stem.index(after: $0)...]) } ?? 0
        requestID = headers["x-writebackd-request-id"] ?? dash.map { String(stem[..<$0]) } ?? stem
        audience = OutboxAudience(rawValue: headers["x-writebackd-audience"] ?? "") ?? .user
        to = (headers["to"] ?? "").split(separator: ",").map { entry in
            let text = entry.trimmingCharacters(in: .whitespacesAndNewlines)
            if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
                return String(text[text.index(after: open)..<close])
            }
            return text
        }.filter { !$0.isEmpty }
        subject = MIMEEncoding.decodeHeader(headers["subject"] ?? "")
        locale = headers["content-language"] ?? "en"
        kind = headers["x-writebackd-kind"] ?? ""
        messageID = headers["message-id"]
    }

    /// The header block, unfolded, names lower-cased; the first occurrence of a name wins.
    static func headers(_ data: Data) -> [String: String] {
        let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let block = text.components(separatedBy: "\n\n").first ?? ""
        var result: [String: String] = [:]
        var current: (name: String, value: String)?
        func flush() {
            if let (name, value) = current, result[name] == nil { result[name] = value }
        }
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.first == " " || line.first == "\t" {
                current?.value += "\n" + line
                continue
            }
            flush()
            guard let colon = line.firstIndex(of: ":") else { current = nil; continue }
            current = (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        flush()
        return result
    }
}
