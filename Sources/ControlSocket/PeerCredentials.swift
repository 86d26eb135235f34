import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who is on the other end of a control connection, as the kernel says (SO_PEERCRED), plus
/// the peer process's supplementary groups. Glibc hides `struct ucred` behind `_GNU_SOURCE`,
/// so `RawUcred` mirrors its layout (three 32-bit fields: pid, uid, gid; see unix(7)).
public struct PeerCredentials: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups of the peer process (from /proc/<pid>/status), or of its user
    /// (getgrouplist) when /proc does not tell.
    public var groups: Set<UInt32>

    public init(pid: Int32, uid: UInt32, gid: UInt32, groups: Set<UInt32>) {
        self.pid = pid; self.uid = uid; self.gid = gid; self.groups = groups
    }

    /// The user name, for log lines (the uid when the name is unknown).
    public var userName: String {
        if let pw = getpwuid(uid_t(uid)), let name = pw.pointee.pw_name { return String(cString: name) }
        return String(uid)
    }

    public func isMember(ofGroup gid: UInt32) -> Bool { self.gid == gid || groups.contains(gid) }

    public var description: String { "pid=\(pid) uid=\(uid)(\(userName)) gid=\(gid)" }

    /// Completes the kernel's answer with the process's supplementary groups.
    static func resolve(pid: Int32, uid: UInt32, gid: UInt32) -> PeerCredentials {
        PeerCredentials(pid: pid, uid: uid, gid: gid, groups: processGroups(pid: pid) ?? userGroups(uid: uid, gid: gid))
    }

    /// `Groups:` line of /proc/<pid>/status: the groups the process really holds (a process
    /// that dropped its groups, e.g. under `setpriv --clear-groups`, holds none).
    static func processGroups(pid: Int32) -> Set<UInt32>? {
        guard pid > 0, let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Groups:") {
            return Set(line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) })
        }
        return nil
    }

    /// The user's groups from the group database (getgrouplist(3)).
    static func userGroups(uid: UInt32, gid: UInt32) -> Set<UInt32> {
        guard let pw = getpwuid(uid_t(uid)), let name = pw.pointee.pw_name else { return [] }
        var count: Int32 = 64
        var list = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, gid_t(gid), &list, &count) == -1 {
            list = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, gid_t(gid), &list, &count) != -1 else { return [] }
        }
        return Set(list.prefix(Int(count)).map { UInt32($0) })
    }
}

/// `struct ucred` from <sys/socket.h>, which Swift's Glibc module does not import.
struct RawUcred: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Decides what a peer may do from `[control] group` and `admin_group` (DESIGN.md "Control
/// socket"): root may do everything; members of `admin_group` may steer and read; members of
/// `group` may read; the daemon's own user may read (the socket is its own when `group` is "").
public struct ControlAccessPolicy: Sendable, Hashable {
    public var readGroup: UInt32?
    public var adminGroup: UInt32?
    public var ownerUID: UInt32

    public init(readGroup: UInt32?, adminGroup: UInt32?, ownerUID: UInt32 = UInt32(geteuid())) {
        self.readGroup = readGroup; self.adminGroup = adminGroup; self.ownerUID = ownerUID
    }

    /// Resolves the configured group names; a name that does not exist is an error.
    public init(group: String, adminGroup: String) throws(ControlServerError) {
        self.init(readGroup: try Self.gid(of: group), adminGroup: try Self.gid(of: adminGroup))
    }

    public static func gid(of name: String) throws(ControlServerError) -> UInt32? {
        if name.isEmpty { return nil }
        guard let gr = getgrnam(name) else { throw .unknownGroup(name) }
        return UInt32(gr.pointee.gr_gid)
    }

    public func right(of peer: PeerCredentials) -> ControlRight {
        if peer.uid == 0 { return .admin }
        if let adminGroup, peer.isMember(ofGroup: adminGroup) { return .admin }
        if let readGroup, peer.isMember(ofGroup: readGroup) { return .read }
        if peer.uid == ownerUID { return .read }
        return .none
    }
}
