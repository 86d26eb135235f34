import Foundation

/// One mailbox as RFC 5322 writes it: an optional display name and an address.
///
/// Addresses come from the configuration (`[outbox] from`, `admin_notify`) and from the
/// directory (`mail`, the alternate mail attribute), so they are untrusted: anything that could
/// break out of a header (CR, LF, `<`, `>`, `,`, spaces, non-ASCII) makes an address invalid,
/// and display names are stripped of control characters before they are encoded.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    public var displayName: String?
    /// `local@domain`, ASCII only.
    public var address: String

    /// Accepts `addr@domain`, `<addr@domain>`, `Name <addr@domain>` and `"Name" <addr@domain>`.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            let inner = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                name = String(name.dropFirst().dropLast())
                    .replacingOccurrences(of: "\\\"", with: "\"")
                    .replacingOccurrences(of: "\\\\", with: "\\")
            }
            self.init(name.isEmpty ? nil : name, inner)
        } else {
            self.init(nil, trimmed)
        }
    }

    /// `nil` when `address` is not a plain ASCII `local@domain`.
    public init?(_ displayName: String?, _ address: String) {
        guard MailAddress.isValid(address) else { return nil }
        self.address = address
        let cleaned = displayName.map(MailAddress.sanitize)?.trimmingCharacters(in: .whitespaces)
        self.displayName = (cleaned?.isEmpty ?? true) ? nil : cleaned
    }

    /// The part after the last `@`.
    public var domain: String { String(address[address.index(after: address.lastIndex(of: "@")!)...]) }

    public var description: String { address }

    /// The mailbox as a header writes it; a non-ASCII name becomes RFC 2047 encoded-words.
    var headerValue: String {
        guard let name = displayName else { return address }
        // An encoded name fills its lines: the address goes on a folded line of its own.
        let separator = MIMEEncoding.isPlainASCII(name) ? " " : "\n "
        return "\(MIMEEncoding.phrase(name))\(separator)<\(address)>"
    }

    /// Plain ASCII `local@domain` with no character that means something in a header.
    static func isValid(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")),
              at > 0, at < bytes.count - 1 else { return false }
        let forbidden = Set("<>()[]\\,;:\" ".utf8)
        for byte in bytes where byte < 0x21 || byte > 0x7E || forbidden.contains(byte) {
            return false
        }
        let domain = bytes[(at + 1)...]
        return !domain.contains(UInt8(ascii: "@")) && domain.first != UInt8(ascii: ".")
            && domain.last != UInt8(ascii: ".")
    }

    /// Control characters (a newline in a directory attribute) become spaces.
    static func sanitize(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map {
            $0.properties.generalCategory == .control ? " " : $0
        }))
    }

    /// Parses each entry, drops invalid ones (returned separately) and duplicates, compared
    /// case-insensitively, keeping the first spelling and order.
    static func deduplicated(_ entries: [String]) -> (valid: [MailAddress], invalid: [String]) {
        var seen = Set<String>()
        var valid: [MailAddress] = []
        var invalid: [String] = []
        for entry in entries {
            guard let address = MailAddress(parsing: entry) else {
                if !entry.trimmingCharacters(in: .whitespaces).isEmpty { invalid.append(entry) }
                continue
            }
            if seen.insert(address.address.lowercased()).inserted { valid.append(address) }
        }
        return (valid, invalid)
    }
}
