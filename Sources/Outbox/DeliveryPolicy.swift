import Foundation

/// How hard the deliverer tries: a message whose command fails is retried after
/// `initialBackoff`, doubling up to `maxBackoff`, and moved to `failed/` after `maxAttempts`
/// attempts or once it is older than `maxAge` (a confirmation days late is worse than none,
/// and the `.reason` file tells the operator). The defaults ride out an MTA restart or an
/// afternoon's outage.
public struct OutboxDeliveryPolicy: Sendable, Hashable {
    /// How often `new/` is scanned when nothing wakes the deliverer.
    public var pollInterval: Duration = .seconds(5)
    public var initialBackoff: TimeInterval = 30
    public var maxBackoff: TimeInterval = 3600
    public var maxAttempts: Int = 20
    public var maxAge: TimeInterval = 2 * 86400
    /// A sendmail run that takes longer is killed and counts as a failed attempt.
    public var commandTimeout: TimeInterval = 60

    public init() {}

    public init(pollInterval: Duration, initialBackoff: TimeInterval, maxBackoff: TimeInterval,
                maxAttempts: Int, maxAge: TimeInterval, commandTimeout: TimeInterval) {
        self.pollInterval = pollInterval; self.initialBackoff = initialBackoff; self.maxBackoff = maxBackoff
        self.maxAttempts = maxAttempts; self.maxAge = maxAge; self.commandTimeout = commandTimeout
    }

    /// The wait after the `attempt`-th failure (1-based).
    func backoff(afterAttempt attempt: Int) -> TimeInterval {
        min(maxBackoff, initialBackoff * pow(2, Double(max(0, attempt - 1))))
    }
}

/// The retry record of one message in `state/<name>.json`, written after each failed attempt
/// and removed when the message leaves `new/`. It survives restarts, so a restart neither
/// resets the backoff nor forgets the attempts.
struct DeliveryRecord: Sendable, Hashable, Codable {
    var attempts: Int
    var firstAttemptAt: Double
    var lastAttemptAt: Double
    var nextAttemptAt: Double
    var lastError: String

    enum CodingKeys: String, CodingKey {
        case attempts, firstAttemptAt = "first_attempt_at", lastAttemptAt = "last_attempt_at"
        case nextAttemptAt = "next_attempt_at", lastError = "last_error"
    }
}

/// What one scan of `new/` did.
public struct DeliveryPass: Sendable, Hashable {
    public var delivered = 0
    /// Failed this time, retried later.
    public var deferred = 0
    /// Given up: moved to `failed/`.
    public var failed = 0
    /// Not yet due for their next attempt.
    public var waiting = 0
    /// The earliest next attempt among waiting and deferred messages.
    public var nextDue: Date?
}
