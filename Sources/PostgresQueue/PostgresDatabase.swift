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

    /// How long one queue or state-store operation may take before it is abandoned with an
    /// error (each is a statement or two that answers in milliseconds). A request waiting for a
    /// pool connection after a server restart was seen to wait forever (the daemon then neither
    /// picked up nor stopped); bounded, it fails, is logged, and the pipeline's store-failure
    /// path gives the row back to be tried again.
    static let operationTimeout = Duration.seconds(10)
    /// The bound for migrations and prunes, which may touch many rows.
    static let maintenanceTimeout = Duration.seconds(600)

    /// Runs `body` with the client; any failure is a `QueueError.storage` for `what`. After
    /// `timeout` the operation is cancelled and abandoned: the caller gets an error even when
    /// the operation ignores its cancellation.
    @discardableResult
    func run<T: Sendable>(_ what: String, timeout: Duration = operationTimeout,
                          _ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws -> T {
        do {
            return try await Self.bounded(by: timeout) { [client] in try await body(client) }
        } catch let error as QueueError {
            throw error
        } catch is OperationTimedOut {
            throw QueueError.storage(path: location.display, reason: "\(what): no answer within \(timeout); abandoned")
        } catch {
            throw QueueError.storage(path: location.display, reason: "\(what): \(PostgresStoreError.describe(error))")
        }
    }

    /// Thrown by `bounded` when the limit passed first.
    struct OperationTimedOut: Error {}

    /// `work`'s result, or `OperationTimedOut` once `limit` has passed (`work` is cancelled
    /// then, and its result, if it ever comes, dropped). One task per operation, the work's own,
    /// which starts at once on the caller's thread; the limit is kept by the shared
    /// `OperationWatchdog`.
    static func bounded<T: Sendable>(by limit: Duration, watchdog: OperationWatchdog = .shared,
                                     _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let meeting = OperationRendezvous<T>()
        // `Task.immediate`: the work starts on this thread (its query is on the wire before the
        // first suspension) instead of waiting for a pool thread to pick up a new task.
        let task = Task.immediate {
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            meeting.answer(result)
        }
        let watched = watchdog.watch(until: .now + limit) {
            // The answer first: the work, cancelled, would otherwise answer with its own
            // CancellationError.
            meeting.answer(.failure(OperationTimedOut()))
            task.cancel()
        }
        defer { watchdog.unwatch(watched) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { meeting.wait($0) }
        } onCancel: {
            task.cancel()
        }
    }
}

