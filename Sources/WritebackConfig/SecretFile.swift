#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WritebackCore

/// Reads a secret (the bind password) from a file — a systemd credential under
/// `$CREDENTIALS_DIRECTORY` or a root-only file — into a `Secret`, dropping exactly one
/// trailing `\n` or `\r\n` (editors add one; everything else is part of the password).
/// The bytes go from the kernel into a buffer that is zeroed after the copy into the `Secret`.
public enum SecretFile {
    /// At most this many bytes; a bind password is never this long.
    public static let maxBytes = 8192

    public static func read(path: String) throws(SecretFileError) -> Secret {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: maxBytes + 1)
        defer { for i in buffer.indices { buffer[i] = 0 } }
        var total = 0
        while total < buffer.count {
            let n = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            total += n
        }
        guard total <= maxBytes else { throw .tooLarge(path: path) }
        var end = total
        if end >= 1 && buffer[end - 1] == UInt8(ascii: "\n") {
            end -= 1
            if end >= 1 && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        }
        guard end > 0 else { throw .empty(path: path) }
        return Secret(bytes: buffer[0..<end])
    }
}

/// Why a secret file was not usable. Never holds any of the file's bytes.
public enum SecretFileError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    /// Empty (after the trailing newline): an empty LDAP password would be an anonymous bind.
    case empty(path: String)
    case tooLarge(path: String)

    public var description: String {
        switch self {
        case .unreadable(let p, let r): return "\(p): cannot read the secret: \(r)"
        case .empty(let p): return "\(p): the secret file is empty (an empty bind password would be an anonymous bind)"
        case .tooLarge(let p): return "\(p): larger than \(SecretFile.maxBytes) bytes; not a password file"
        }
    }
}
