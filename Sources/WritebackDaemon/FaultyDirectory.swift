import Foundation
import Synchronization
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// Test-only directory decorator for the at-most-once tests (debug builds only; release builds
/// never wrap, and ignore the variables):
/// - `WRITEBACKD_TEST_CRASH_AFTER_WRITE=N`: the daemon SIGKILLs itself right after its N-th
///   successful write, before the queue records it.
///
/// And the ways a write can time out, each making the N-th write answer `.timedOut`:
/// - `WRITEBACKD_TEST_WRITE_DROPPED=N`: the write never reaches the directory.
/// - `WRITEBACKD_TEST_LOST_REPLY=N`: the write is applied, then the reply is lost.
/// - `WRITEBACKD_TEST_WRITE_LANDS_LATE=N`: the write is held and sent right after the next
///   readback of that user has answered, as a server still working through a queued modify
///   does. The retried write then meets the new password already in place, and the daemon
///   must record `succeeded`, not the directory's history refusal.
/// - `WRITEBACKD_TEST_WRITE_DELAY_MS=M` (alone or with one of the above): every write waits M ms
///   first, as on a slow DC, so a request can outlast its lease. The wait occupies one of the
///   directory's `connections` (taken in turn), as a slow write does: the writes queue there.
/// - `WRITEBACKD_TEST_FAULT_DIRECTORY=NAME`: only the directory named NAME (of several) has the
///   faults above; the others are left alone (a slow directory beside a fast one).
final class FaultyDirectory: PasswordDirectory {
    enum Fault { case crashAfterWrite, dropped, lostReply, landsLate }

    let inner: any PasswordDirectory
    private let fault: Fault?
    private let onWrite: Int
    private let writeDelay: Duration
    /// One lock per connection, held through a delayed write's wait.
    private let connectionLocks = UserLocks()
    private let connections: Int
    private let delayed = Atomic<Int>(0)
    private let state = Mutex<(writes: Int, held: (PasswordWrite, DirectoryUser)?)>((0, nil))

    /// `directory` itself unless a debug switch is set.
    static func wrapping(_ directory: any PasswordDirectory, name: String = "default", connections: Int = 1,
                         environment: [String: String] = ProcessInfo.processInfo.environment) -> any PasswordDirectory {
        #if DEBUG
        if let only = environment["WRITEBACKD_TEST_FAULT_DIRECTORY"], only != name { return directory }
        let switches: [(String, Fault)] = [("WRITEBACKD_TEST_CRASH_AFTER_WRITE", .crashAfterWrite), ("WRITEBACKD_TEST_WRITE_DROPPED", .dropped), ("WRITEBACKD_TEST_LOST_REPLY", .lostReply),
                                           ("WRITEBACKD_TEST_WRITE_LANDS_LATE", .landsLate)]
        let chosen = switches.lazy.compactMap { name, fault in
            environment[name].flatMap(Int.init).flatMap { $0 > 0 ? (fault, $0) : nil }
        }.first
        let delay = environment["WRITEBACKD_TEST_WRITE_DELAY_MS"].flatMap(Int.init) ?? 0
        if chosen != nil || delay > 0 {
            return FaultyDirectory(inner: directory, fault: chosen?.0, onWrite: chosen?.1 ?? 0, writeDelay: .milliseconds(delay),
                                   connections: connections)
        }
        #endif
        return directory
    }

    private init(inner: any PasswordDirectory, fault: Fault?, onWrite: Int, writeDelay: Duration, connections: Int) {
        self.inner = inner
        self.fault = fault
        self.onWrite = onWrite
        self.writeDelay = writeDelay
        self.connections = max(1, connections)
    }

    func findUser(identity: String, groupsOfInterest: [String]) async throws(DirectoryError) -> DirectoryUser {
        try await inner.findUser(identity: identity, groupsOfInterest: groupsOfInterest)
    }

    func clearCaches() { inner.clearCaches() }

    func effectivePolicy(for user: DirectoryUser) async throws(DirectoryError) -> DirectoryPasswordPolicy? {
        try await inner.effectivePolicy(for: user)
    }

    func apply(_ write: PasswordWrite, to user: DirectoryUser) async throws(DirectoryError) {
        if writeDelay > .zero {
            let key = "connection-\(delayed.add(1, ordering: .relaxed).oldValue % connections)"
            await connectionLocks.lock(key)
            try? await Task.sleep(for: writeDelay)
            connectionLocks.unlock(key)
        }
        if fault == .crashAfterWrite {
            try await inner.apply(write, to: user)
            if state.withLock({ s in s.writes += 1; return s.writes }) == onWrite { kill(getpid(), SIGKILL) }
            return
        }
        let hit = state.withLock { s in
            s.writes += 1
            guard fault != nil, s.writes == onWrite else { return false }
            if fault == .landsLate { s.held = (write, user) }
            return true
        }
        guard hit, let fault else { return try await inner.apply(write, to: user) }
        switch fault {
        case .dropped:
            throw .timedOut("test: the write was dropped")
        case .lostReply:
            try await inner.apply(write, to: user)
            throw .timedOut("test: the write was applied, its reply lost")
        case .landsLate:
            throw .timedOut("test: reply lost; the write lands later")
        case .crashAfterWrite:
            try await inner.apply(write, to: user)  // handled above; not reached
        }
    }

    func readBack(user: DirectoryUser, intentStamp: String?, newPassword: Secret?) async throws(DirectoryError) -> ReadbackVerdict {
        let verdict = try await inner.readBack(user: user, intentStamp: intentStamp, newPassword: newPassword)
        let held = state.withLock { s -> (PasswordWrite, DirectoryUser)? in
            guard let h = s.held, h.1.dn == user.dn else { return nil }
            s.held = nil
            return h
        }
        if let (write, target) = held { try await inner.apply(write, to: target) }
        return verdict
    }

    func health() async -> [EndpointHealth] { await inner.health() }

    func taskExecutor(forWorker worker: Int) -> (any TaskExecutor)? { inner.taskExecutor(forWorker: worker) }
}
