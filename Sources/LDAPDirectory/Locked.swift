import Foundation

/// A value guarded by a lock, for the little shared mutable state of the pool (endpoint
/// health, in-flight counts) that is touched from many connection threads.
///
/// `@unchecked Sendable` is sound: `value` is only accessed inside `withLock`, which holds
/// `lock` for the whole access, and `T: Sendable` so nothing non-Sendable escapes.
final class Locked<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T

    init(_ value: T) { self.value = value }

    func withLock<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
