import Foundation
import Synchronization
import WritebackCore

/// Test-only directory decorator for the "reply lost, write lands late" race (debug builds,
/// `WRITEBACKD_TEST_WRITE_LANDS_LATE=N`). The N-th write is not sent at once: the caller gets
/// `.timedOut`, as when a reply is lost under load; the write is sent right after the next
/// readback of that user has answered, which is what a server still working through a
/// queued modify does. The retried write then meets a directory that already holds the new
/// password, and the daemon must record `succeeded`, not the directory's history refusal.
final class LateLandingDirectory: PasswordDirectory {
    let inner: any PasswordDirectory
    private let landOnWrite: Int
    private let state = Mutex<(writes: Int, held: (PasswordWrite, DirectoryUser)?)>((0, nil))

    /// `directory` itself unless the debug switch is set.
    static func wrapping(_ directory: any PasswordDirectory,
                         environment: [String: String] = ProcessInfo.processInfo.environment) -> any PasswordDirectory {
        #if DEBUG
        if let n = environment["WRITEBACKD_TEST_WRITE_LANDS_LATE"].flatMap(Int.init), n > 0 {
            return LateLandingDirectory(inner: directory, landOnWrite: n)
        }
        #endif
        return directory
    }

    private init(inner: any PasswordDirectory, landOnWrite: Int) {
        self.inner = inner
        self.landOnWrite = landOnWrite
    }

    func findUser(identity: String, groupsOfInterest: [String]) async throws(DirectoryError) -> DirectoryUser {
        try await inner.findUser(identity: identity, groupsOfInterest: groupsOfInterest)
    }

    func apply(_ write: PasswordWrite, to user: DirectoryUser) async throws(DirectoryError) {
        let hold = state.withLock { s in
            s.writes += 1
            if s.writes == landOnWrite { s.held = (write, user); return true }
            return false
        }
        if hold { throw .timedOut("test: reply lost; the write lands later") }
        try await inner.apply(write, to: user)
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
