/// `[audit]`: the tamper-evident trail of terminal requests (`<state dir>/audit.jsonl`).
/// Defaults are the documented ones (config/writebackd.toml).
public struct AuditConfig: Sendable, Hashable {
    /// The current trail file; rotated files go beside it. Default: `audit.jsonl` in the
    /// directory of `[state] path` (or /var/lib/writebackd with a PostgreSQL state store).
    public var path: String = "/var/lib/writebackd/audit.jsonl"
    /// The Ed25519 private key (PEM, `writebackctl keygen --audit`) that signs batches;
    /// "": the trail is hash-chained but not signed (doctor warns).
    public var signingKey: String = ""
    /// A signature line after at most this many lines…
    public var batchLines: Int = 100
    /// …or this many seconds after the oldest unsigned line, and always at shutdown.
    public var batchSeconds: Int = 60
    /// Rotate (after a signature) once the file is this large; 0: never.
    public var rotateBytes: Int = 64 * 1024 * 1024
    public init() {}
}
