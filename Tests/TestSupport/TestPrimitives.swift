import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A wall clock that moves only when a test says so, for code that takes an injected
/// `now: @Sendable () -> Date` (backoff, leases, expiry). Exists so a test of "not due yet,
/// due now" cannot race the machine: on 2 cores a busy test run can stall a task for seconds.
///
/// `@unchecked Sendable` is sound: `current` is only read and written while `lock` is held.
public final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date = Date()) { current = start }

    public func now() -> Date {
        lock.lock(); defer { lock.unlock() }
        return current
    }

    public func advance(_ seconds: TimeInterval) {
        lock.lock(); defer { lock.unlock() }
        current = current.addingTimeInterval(seconds)
    }
}

/// Runs blocking work (a server's start script, `waitpid`) on a thread of its own, so a test
/// that waits for it does not hold one of the cooperative pool's threads — on 2 cores there
/// are only two, and a Samba DC's first provisioning takes a minute.
public func offPool<T: Sendable>(_ name: String = "test-blocking", _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.name = name
        thread.start()
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (bound to port 0, read back,
/// closed), for a server a test configures itself. Loopback only.
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SlapdHarnessError.commandFailed("socket failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw SlapdHarnessError.commandFailed("bind 127.0.0.1:0 failed") }
    return Int(UInt16(bigEndian: addr.sin_port))
}
