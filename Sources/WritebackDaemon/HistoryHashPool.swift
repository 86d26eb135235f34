import Foundation
import NIOPosix
import WritebackCore
import WritebackPolicy

/// Runs the password-history derivation (scrypt N=2^15, ≈ 0.1 s) on threads of its own, in
/// parallel across requests, never on Swift's cooperative pool (DESIGN.md "Rules of the
/// trade"): a tenth of a second of CPU on the cooperative pool would stall every other task.
public final class HistoryHashPool: Sendable {
    /// One derivation answers both questions: is the password in the user's history, and
    /// what to store after a successful write (same salt, so the entry is that hash).
    public struct Verdict: Sendable {
        public var inHistory: Bool
        public var salt: Data
        public var hash: Data
    }

    private let pool: NIOThreadPool
    private let hasher: PasswordHistoryHasher

    public init(threads: Int, hasher: PasswordHistoryHasher = PasswordHistoryHasher()) {
        pool = NIOThreadPool(numberOfThreads: max(1, threads))
        pool.start()
        self.hasher = hasher
    }

    /// A derivation not started because `skipIf` said so when its turn came.
    public struct Skipped: Error, Sendable {}

    /// Derives `password`'s hash under the user's salt (a new salt for a user without
    /// history) and compares it with the newest `keep` stored hashes. `skipIf` is asked when
    /// the derivation's turn on a thread comes: true throws `Skipped` instead (the daemon is
    /// stopping, and a request waiting behind others' derivations goes back to the queue
    /// rather than hold the shutdown for a tenth of a second per request ahead of it).
    public func check(_ password: Secret, record: PasswordHistoryRecord?, keep: Int,
                      skipIf: @escaping @Sendable () -> Bool = { false }) async throws -> Verdict {
        let hasher = self.hasher
        return try await pool.runIfActive {
            if skipIf() { throw Skipped() }
            let (salt, hash) = try hasher.entry(for: password, existing: record)
            var found = false
            for stored in (record?.hashes ?? []).prefix(keep) where LDAPPasswordHash.constantTimeEquals(hash, stored) { found = true }
            return Verdict(inHistory: found, salt: salt, hash: hash)
        }
    }

    public func shutdown() async { try? await pool.shutdownGracefully() }
}
