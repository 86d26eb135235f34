import Logging
import PostgresNIO
import Synchronization

/// The queue's claims on a connection of their own whose commits do not wait for the WAL flush
/// (`synchronous_commit = off`). A claim lost to a crash of the server leaves its rows pending,
/// where they were, and the next synchronous commit (an intent, an outcome) flushes the WAL
/// through it; SQLite's claims commit the same way (`immediate(durable:)`). With the server's
/// fsync on, a claim that waited for its flush put ~1 ms and a long tail on every pick-up
/// (`make bench` pickup, PostgreSQL durable).
///
/// Used only once it has answered: it connects in the background (`SELECT 1`, bounded by the
/// maintenance limit, not a claim's 10 s), and until then, or after any claim on it failed,
/// claims go to the store's pool as before. (Its first connect inside a claim's bound once
/// timed out a loaded CI run.)
final class ClaimConnection: Sendable {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    /// 0: not connected, 1: connecting, 2: answered.
    private let phase = Atomic<Int>(0)

    init(configuration: PostgresClient.Configuration, logger: Logger) {
        var config = configuration
        config.options.maximumConnections = 1
        config.options.additionalStartupParameters = [("synchronous_commit", "off")]
        let client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        runner = Task.immediate { await client.run() }
        warmUp()
    }

    deinit { runner.cancel() }

    /// The claim client once it has answered; nil (and a connect started, if none is under
    /// way) before.
    var ready: PostgresClient? {
        if phase.load(ordering: .acquiring) == 2 { return client }
        warmUp()
        return nil
    }

    /// A claim on it failed: claims use the pool until it has answered again.
    func failed() {
        if phase.compareExchange(expected: 2, desired: 0, ordering: .acquiringAndReleasing).exchanged { warmUp() }
    }

    private func warmUp() {
        guard phase.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged else { return }
        Task { [self] in
            do {
                _ = try await PostgresDatabase.bounded(by: PostgresDatabase.maintenanceTimeout) { [client, logger] in
                    try await client.query("SELECT 1", logger: logger)
                }
                phase.store(2, ordering: .releasing)
            } catch {
                phase.store(0, ordering: .releasing)   // the next claim tries again
            }
        }
    }
}
