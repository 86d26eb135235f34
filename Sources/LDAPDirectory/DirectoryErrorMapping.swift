import Foundation
import WritebackCore

/// The part of LDAP → `DirectoryError` mapping that is the same for every directory kind:
/// transport, timeouts, server load and the service account's own bind. Flavours call
/// `transport(_:write:)` first and map what is left (password rules, rights) themselves.
public enum DirectoryErrorMapping {
    /// The transport-level meaning of `error`, or nil when it is an answer to the operation.
    /// A timeout on a write is `.timedOut` (the write may still happen: read back); on a
    /// read it is `.unavailable`.
    public static func transport(_ error: LDAPError, write: Bool) -> DirectoryError? {
        let where_ = error.uri.map { " (\($0))" } ?? ""
        if error.code == LDAPCode.timeout {
            return write && error.phase == .operation
                ? .timedOut("no answer in time\(where_)")
                : .unavailable("no answer in time\(where_)")
        }
        if error.isConnectionLoss || error.phase == .connect {
            return .unavailable(error.message + where_)
        }
        if error.phase == .bind {
            return .bindFailed("service account bind: \(error.message)")
        }
        switch error.code {
        case LDAPCode.busy, LDAPCode.unavailable: return .transient(error.message)
        default: return nil
        }
    }
}
