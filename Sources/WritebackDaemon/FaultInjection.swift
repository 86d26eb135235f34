import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Test-only crash switch for the at-most-once tests (TEAM.md): in debug builds, the
/// environment variable `WRITEBACKD_TEST_CRASH_AFTER_WRITE=N` makes the daemon SIGKILL itself
/// right after its N-th successful directory write, before the queue records it. Release
/// builds compile the check away and ignore the variable.
final class FaultInjection: Sendable {
    private let crashAfterWrite: Int?
    private let writes = Mutex(0)

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        #if DEBUG
        crashAfterWrite = environment["WRITEBACKD_TEST_CRASH_AFTER_WRITE"].flatMap(Int.init)
        #else
        crashAfterWrite = nil
        #endif
    }

    var isArmed: Bool { crashAfterWrite != nil }

    /// Called after every successful directory write.
    func directoryWriteSucceeded() {
        #if DEBUG
        guard let limit = crashAfterWrite else { return }
        let n = writes.withLock { count in count += 1; return count }
        if n == limit { kill(getpid(), SIGKILL) }
        #endif
    }
}
