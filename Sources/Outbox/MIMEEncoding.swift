import Foundation

/// The encodings a UTF-8 confirmation needs: RFC 2047 encoded-words for non-ASCII header text,
/// base64 and quoted-printable bodies (RFC 2045), folding, and the RFC 5322 / RFC 3339 dates.
/// Written by hand because Foundation has none of them and the outbox must not depend on an
/// MTA to fix a message up. Lines end in LF: the local convention sendmail-compatible commands
/// read and Maildir stores; the MTA writes CRLF on the wire.
enum MIMEEncoding {
    static func isPlainASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// Unstructured header text (Subject): as is when printable ASCII, folded at spaces when
    /// long; otherwise a run of encoded-words, one per folded line, never splitting a character.
    /// `used` is what precedes the text on its first line (`Subject: ` = 9).
    static func unstructured(_ text: String, used: Int = 9) -> String {
        let text = MailAddress.sanitize(text)
        if isPlainASCII(text) { return foldASCII(text, firstLineUsed: used) }
        return encodedWords(text, used: used).joined(separator: "\n ")
    }

    /// A display name: an atom sequence as is, a quoted-string when it holds specials,
    /// encoded-words when it is not ASCII. `used` is what precedes it on its line.
    static func phrase(_ text: String, used: Int = 6) -> String {
        if !isPlainASCII(text) { return encodedWords(text, used: used).joined(separator: "\n ") }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ".utf8)
        if text.utf8.allSatisfy(atext.contains) { return text }
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }

    /// `=?utf-8?b?…?=` words, each on its own line of at most 76 characters (RFC 2047 §2):
    /// the first after `used` characters, the others after the folding space. Words are split
    /// on character boundaries (a grapheme's bytes stay in one word).
    static func encodedWords(_ text: String, used: Int) -> [String] {
        func capacity(_ lineUsed: Int) -> Int { max(3, (76 - lineUsed - 12) / 4 * 3) }
        var words: [String] = []
        var chunk: [UInt8] = []
        var limit = capacity(used)
        for character in text {
            let bytes = Array(String(character).utf8)
            if !chunk.isEmpty, chunk.count + bytes.count > limit {
                words.append(word(chunk))
                chunk = []
                limit = capacity(1)
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(word(chunk)) }
        return words
    }

    private static func word(_ bytes: [UInt8]) -> String {
        "=?utf-8?b?\(Data(bytes).base64EncodedString())?="
    }

    /// Folds printable ASCII at spaces so that lines stay under 78 characters where possible.
    static func foldASCII(_ text: String, firstLineUsed: Int = 9) -> String {
        var lines: [String] = []
        var words = text.split(separator: " ", omittingEmptySubsequences: false).makeIterator()
        var current = String(words.next() ?? "")
        var limit = 78 - firstLineUsed
        while let word = words.next() {
            if !current.isEmpty, current.count + 1 + word.count > limit {
                lines.append(current)
                current = String(word)
                limit = 77
            } else {
                current += " " + word
            }
        }
        lines.append(current)
        return lines.joined(separator: "\n ")
    }

    /// Base64 in lines of 76 characters (RFC 2045 §6.8).
    static func base64Lines(_ data: Data) -> String {
        let encoded = Array(data.base64EncodedString().utf8)
        var lines: [String] = []
        var start = 0
        while start < encoded.count {
            let end = min(start + 76, encoded.count)
            lines.append(String(decoding: encoded[start..<end], as: UTF8.self))
            start = end
        }
        return lines.joined(separator: "\n")
    }

    /// Quoted-printable (RFC 2045 §6.7): text lines kept, non-ASCII bytes and `=` escaped,
    /// trailing white space escaped, soft line breaks before 76 characters, never inside an
    /// escape.
    static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var encodedLine: [UInt8] = []
            var lineLength = 0
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                    || ((byte == 0x20 || byte == 0x09) && !isLast)
                let piece: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
                if lineLength + piece.count > 75 {
                    encodedLine += Array("=\n".utf8)
                    lineLength = 0
                }
                encodedLine += piece
                lineLength += piece.count
            }
            out.append(String(decoding: encodedLine, as: UTF8.self))
        }
        return out.joined(separator: "\n")
    }

    /// Decodes RFC 2047 `B` and `Q` words in UTF-8 (what this module writes), leaving any other
    /// text alone, after unfolding. Used to read back the subject of a stored message.
    static func decodeHeader(_ value: String) -> String {
        let unfolded = value.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "")
        var result = ""
        var previousWasEncoded = false
        for (index, token) in unfolded.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            let decoded = decodeWord(String(token))
            // White space between two adjacent encoded-words is not part of the text.
            if index > 0, !(previousWasEncoded && decoded != nil) { result += " " }
            result += decoded ?? String(token)
            previousWasEncoded = decoded != nil
        }
        return result
    }

    private static func decodeWord(_ token: String) -> String? {
        let parts = token.split(separator: "?", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "=", parts[4] == "=", parts[1].lowercased() == "utf-8" else { return nil }
        switch parts[2].lowercased() {
        case "b":
            guard let data = Data(base64Encoded: String(parts[3])) else { return nil }
            return String(data: data, encoding: .utf8)
        case "q":
            var bytes: [UInt8] = []
            var iterator = Array(parts[3].utf8).makeIterator()
            while let byte = iterator.next() {
                if byte == UInt8(ascii: "_") { bytes.append(0x20) }
                else if byte == UInt8(ascii: "="), let hi = iterator.next(), let lo = iterator.next(),
                        let value = UInt8(String(decoding: [hi, lo], as: UTF8.self), radix: 16) { bytes.append(value) }
                else { bytes.append(byte) }
            }
            return String(bytes: bytes, encoding: .utf8)
        default:
            return nil
        }
    }
}
