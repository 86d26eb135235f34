import Logging
import PostgresNIO
import RequestQueue

/// One PostgreSQL connection pool and the task that runs it, for one store. It exists so the
/// stores only say what to run: errors become `QueueError.storage` naming the database and the
/// operation, and the pool's run loop lives and ends with the store.
final class PostgresDatabase: Sendable {
    let client: PostgresClient
    let location: PostgresLocation
    let logger: Logger
    private let runner: Task<Void, Never>

    init(url: String, logger: Logger) throws {
        location = try PostgresLocation.parse(url)
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        self.logger = quiet
        let client = PostgresClient(configuration: try location.clientConfiguration(), backgroundLogger: quiet)
        self.client = client
        // `Task.immediate` runs up to `run()`'s first suspension here, so the client is marked
        // running before any query can lease a connection (postgres-nio otherwise warns once).
        runner = Task.immediate { await client.run() }
    }

    deinit { runner.cancel() }

    /// Runs `body` with the client; any failure is a `QueueError.storage` for `what`.
    @discardableResult
    func run<T: Sendable>(_ what: String, _ body: (PostgresClient) async throws -> T) async throws -> T {
        do {
            return try await body(client)
        } catch let error as QueueError {
            throw error
        } catch {
            throw QueueError.storage(path: location.display, reason: "\(what): \(PostgresStoreError.describe(error))")
        }
    }
}
