import Foundation

/// Why a queue or state-store operation failed. Cases name the cause; none carries a payload.
public enum QueueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The row is not `in_progress` under this owner any more (lease lost, or already terminal).
    case notOwner(id: String)
    /// `[queue] path` (or `url`) / `[state] path` is missing.
    case missingPath(section: String)
    /// The file does not exist (read-only opens never create it).
    case fileNotFound(path: String)
    /// A producer row with this id exists already (the id is the idempotency key).
    case duplicateID(String)
    /// Another request's intent holds the same directory account (`recordIntent`'s
    /// `userKey`): this one waits until that write is settled.
    case userBusy(id: String)
    /// The database refused an operation.
    case storage(path: String, reason: String)

    public var description: String {
        switch self {
        case .notOwner(let id): "request \(id): not held by this worker (lease lost or already terminal)"
        case .missingPath(let section): "[\(section)] path is not set"
        case .fileNotFound(let path): "\(path): no such queue file"
        case .duplicateID(let id): "request \(id) is already queued"
        case .userBusy(let id): "request \(id): another request for the same account is being written; waiting for it"
        case .storage(let path, let reason): "\(path): \(reason)"
        }
    }
}
