import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why `writebackctl` could not talk to the daemon. Each case maps to a message that tells the
/// administrator what to do, and to exit code 2 (unreachable), except `refused` (exit 1).
public enum ControlClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No socket at the path: the daemon is not running, or the path is wrong.
    case socketMissing(String)
    /// The file system refused the connection: the caller is not in the socket's group.
    case permissionDenied(String)
    /// A socket file exists but nobody listens (a daemon that died).
    case notListening(String)
    case connectFailed(path: String, reason: String)
    /// The daemon closed the connection or answered something that is not a reply.
    case badReply(String)

    public var description: String {
        switch self {
        case .socketMissing(let p): "no control socket at \(p): is writebackd running? (use --socket PATH or --config PATH)"
        case .permissionDenied(let p): "permission refused to open \(p): run as root or as a member of the [control] group"
        case .notListening(let p): "nothing listens on \(p): writebackd is not running"
        case .connectFailed(let p, let r): "cannot connect to \(p): \(r)"
        case .badReply(let r): "unexpected reply from writebackd: \(r)"
        }
    }
}

/// A minimal blocking client: one connection, one request line, one reply line. Blocking is
/// right here: `writebackctl` does nothing else while it waits.
public struct ControlClient: Sendable {
    public let path: String
    public var timeoutSeconds: Int

    public init(path: String, timeoutSeconds: Int = 30) { self.path = path; self.timeoutSeconds = timeoutSeconds }

    public func send(_ request: ControlRequest) throws(ControlClientError) -> ControlReply {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .connectFailed(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .connectFailed(path: path, reason: "path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            switch errno {
            case ENOENT: throw .socketMissing(path)
            case EACCES, EPERM: throw .permissionDenied(path)
            case ECONNREFUSED: throw .notListening(path)
            default: throw .connectFailed(path: path, reason: String(cString: strerror(errno)))
            }
        }

        var line = (try? JSONEncoder().encode(request)) ?? Data()
        line.append(UInt8(ascii: "\n"))
        let written = line.withUnsafeBytes { buf -> Bool in
            var offset = 0
            while offset < buf.count {
                let n = write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        guard written else { throw .connectFailed(path: path, reason: String(cString: strerror(errno))) }

        var reply = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !reply.contains(UInt8(ascii: "\n")) {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 { throw .badReply("read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            reply.append(contentsOf: chunk[0..<n])
        }
        guard let end = reply.firstIndex(of: UInt8(ascii: "\n")) else { throw .badReply("connection closed before a reply") }
        do {
            return try JSONDecoder().decode(ControlReply.self, from: Data(reply[..<end]))
        } catch {
            throw .badReply("not a JSON reply")
        }
    }
}
