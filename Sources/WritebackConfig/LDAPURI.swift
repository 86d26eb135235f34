#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `[directory] uri`, taken apart: the loader uses it to enforce the encryption rule
/// (no plain `ldap://` unless StartTLS, GSSAPI sealing, or an allowed loopback), and
/// `writebackctl doctor` uses it to know where to connect (TCP host/port or the ldapi socket).
public struct LDAPURI: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable { case ldap, ldaps, ldapi }

    public let scheme: Scheme
    /// Host name or address (IPv6 without brackets); empty for ldapi.
    public let host: String
    /// Explicit port, else 389 (ldap) or 636 (ldaps); 0 for ldapi.
    public let port: Int
    /// For ldapi: the decoded socket path ("" means libldap's default socket).
    public let socketPath: String
    /// The URI as written.
    public let text: String

    public var description: String { text }

    /// Parses `ldap://host[:port][/]`, `ldaps://…`, `ldapi://%2Fpath%2Fto%2Fsocket[/]`.
    /// Returns the reason when the text is not such a URI.
    public static func parse(_ text: String) -> Result<LDAPURI, URIProblem> {
        guard let sep = text.range(of: "://") else { return .failure(.init("\"\(text)\" is not a URI (expected ldap://, ldaps:// or ldapi://)")) }
        guard let scheme = Scheme(rawValue: text[..<sep.lowerBound].lowercased()) else {
            return .failure(.init("\"\(text)\": scheme must be ldap, ldaps or ldapi"))
        }
        var rest = Substring(text[sep.upperBound...])
        if rest.hasSuffix("/") { rest.removeLast() }
        if rest.contains(where: { $0 == "/" || $0 == "?" || $0 == " " || $0 == "#" }) {
            return .failure(.init("\"\(text)\": only scheme://host[:port] is allowed (no DN, attributes or spaces)"))
        }
        if scheme == .ldapi {
            guard let decoded = String(rest).removingPercentEncodingLDAP() else {
                return .failure(.init("\"\(text)\": bad percent-encoding in the socket path"))
            }
            if !decoded.isEmpty && !decoded.hasPrefix("/") {
                return .failure(.init("\"\(text)\": the ldapi socket path must be absolute and percent-encoded (ldapi://%2Frun%2Fslapd%2Fldapi)"))
            }
            return .success(LDAPURI(scheme: scheme, host: "", port: 0, socketPath: decoded, text: text))
        }
        var host = Substring(rest)
        var portText: Substring? = nil
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return .failure(.init("\"\(text)\": unclosed [ in IPv6 address")) }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                return .failure(.init("\"\(text)\": unexpected text after the IPv6 address"))
            }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { return .failure(.init("\"\(text)\": a host is required")) }
        var port = scheme == .ldaps ? 636 : 389
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else {
                return .failure(.init("\"\(text)\": port must be 1…65535"))
            }
            port = p
        }
        return .success(LDAPURI(scheme: scheme, host: String(host), port: port, socketPath: "", text: text))
    }

    /// `localhost`, 127.0.0.0/8, ::1 — or any ldapi socket (which never leaves the machine).
    public var isLoopback: Bool {
        if scheme == .ldapi { return true }
        let h = host.lowercased()
        if h == "localhost" || h.hasSuffix(".localhost") { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, h, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, h, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            // ::ffff:127.x.y.z
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127 { return true }
        }
        return false
    }
}

/// Why a URI was not accepted.
public struct URIProblem: Error, Sendable, Hashable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
}

extension String {
    /// Percent-decoding without Foundation; nil on a malformed escape or invalid UTF-8.
    func removingPercentEncodingLDAP() -> String? {
        var bytes: [UInt8] = []
        var it = Array(utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v); it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
