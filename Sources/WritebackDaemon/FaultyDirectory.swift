import Foundation
import Synchronization
import WritebackCore

/// Test-only directory decorator for the ways a write can time out (debug builds only; release
/// builds never wrap). Each makes the N-th write answer `.timedOut`:
/// - `WRITEBACKD_TEST_WRITE_DROPPED=N`: the write never reaches the directory.
/// - `WRITEBACKD_TEST_LOST_REPLY=N`: the write is applied, then the reply is lost.
/// - `WRITEBACKD_TEST_WRITE_LANDS_LATE=N`: the write is held and sent right after the next
///   readback of that user has answered, as a server still working through a queued modify
///   does. The retried write then meets the new password already in place, and the daemon
///   must record `succeeded`, not the directory's history refusal.
final class FaultyDirectory: PasswordDirectory {
    enum Fault { case dropped, lostReply, landsLate }

    let inner: any PasswordDirectory
    private let fault: Fault
    private let onWrite: Int
    private let state = Mutex<(writes: Int, held: (PasswordWrite, DirectoryUser)?)>((0, nil))

    /// `directory` itself unless a debug switch is set.
    static func wrapping(_ directory: any PasswordDirectory,
                         environment: [String: String] = ProcessInfo.processInfo.environment) -> any PasswordDirectory {
        #if DEBUG
        if let n = environment["WRITEBACKD_TEST_WRITE_DROPPED"].flatMap(Int.init), n > 0 {
            return FaultyDirectory(inner: directory, fault: .dropped, onWrite: n)
        }
        if let n = environment["WRITEBACKD_TEST_LOST_REPLY"].flatMap(Int.init), n > 0 {
            return FaultyDirectory(inner: directory, fault: .lostReply, onWrite: n)
        }
        if let n = environment["WRITEBACKD_TEST_WRITE_LANDS_LATE"].flatMap(Int.init), n > 0 {
            return FaultyDirectory(inner: directory, fault: .landsLate, onWrite: n)
        }
        #endif
        return directory
    }

    private init(inner: any PasswordDirectory, fault: Fault, onWrite: Int) {
        self.inner = inner
        self.fault = fault
        self.onWrite = onWrite
    }

    func findUser(identity: String, groupsOfInterest: [String]) async throws(DirectoryError) -> DirectoryUser {
        try await inner.findUser(identity: identity, groupsOfInterest: groupsOfInterest)
    }

    func apply(_ write: PasswordWrite, to user: DirectoryUser) async throws(DirectoryError) {
        let hit = state.withLock { s in
            s.writes += 1
            guard s.writes == onWrite else { return false }
            if fault == .landsLate { s.held = (write, user) }
            return true
        }
        guard hit else { return try await inner.apply(write, to: user) }
        switch fault {
        case .dropped:
            throw .timedOut("test: the write was dropped")
        case .lostReply:
            try await inner.apply(write, to: user)
            throw .timedOut("test: the write was applied, its reply lost")
        case .landsLate:
            throw .timedOut("test: reply lost; the write lands later")
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
