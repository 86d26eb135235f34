import Synchronization

/// Serialises the requests of one user: two resets of the same account running side by side
/// would race in the directory (OpenLDAP answers one of them with rc 20 as both append to
/// `pwdHistory`) and in the throttle count. Keyed by the request's normalised identity;
/// waiters are served first come, first served. Different users never wait for each other.
final class UserLocks: Sendable {
    private let waiters = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    func lock(_ key: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = waiters.withLock { table -> Bool in
                if table[key] == nil { table[key] = []; return true }
                table[key]!.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    func unlock(_ key: String) {
        let next = waiters.withLock { table -> CheckedContinuation<Void, Never>? in
            guard var queue = table[key] else { return nil }
            if queue.isEmpty { table[key] = nil; return nil }
            let first = queue.removeFirst()
            table[key] = queue
            return first
        }
        next?.resume()
    }

    static func key(forIdentity identity: String) -> String { identity.lowercased() }
}
