import Foundation
import Logging
import RequestCodec
import RequestQueue
import TestSupport
import WritebackCore
import WritebackPolicy
@testable import WritebackDaemon

/// The daemon's real request pipeline (`RequestProcessor`: verify, decide, write, record) in
/// the test process, against a real directory, with a real SQLite queue and state store in a
/// temporary directory. Exists for tests that need many decided requests against directories
/// the E2E harness does not start (the Samba DC): each `run` signs, seals and enqueues a
/// request as a portal does, claims it and lets the processor decide it.
struct PipelineHarness {
    let dir: String
    let config: Configuration
    let queue: SQLiteRequestQueue
    let sealer: RequestSealer
    let processor: RequestProcessor
    let directory: LDAPDirectoryServiceHandle

    /// The directory service, shut down by `close()`.
    struct LDAPDirectoryServiceHandle: Sendable {
        let service: any PasswordDirectory
        let shutdown: @Sendable () async -> Void
    }

    init(directory d: DirectoryConfig, policy: PolicyConfig, service: any PasswordDirectory, shutdown: @escaping @Sendable () async -> Void) throws {
        dir = try Slapd.makeTempDir(prefix: "pipeline")
        try PEMKeys.generate(into: dir + "/keys")
        let keys = KeysConfig(producerPublicKeys: [dir + "/keys/producer-signing.pub"], sealingPrivateKey: dir + "/keys/daemon-sealing.key",
                              sealingPublicKey: dir + "/keys/daemon-sealing.pub")
        var p = policy
        p.throttlePerHour = 0
        config = Configuration(directory: d, queue: QueueConfig(path: dir + "/queue.sqlite"), keys: keys, policy: p,
                               outbox: OutboxConfig(dir: dir + "/outbox"), state: StateConfig(path: dir + "/state.sqlite"))
        queue = try SQLiteRequestQueue(path: dir + "/queue.sqlite")
        sealer = try RequestSealer(sealingPublicKeyPath: keys.sealingPublicKey, signingKeyPath: dir + "/keys/producer-signing.key")
        directory = LDAPDirectoryServiceHandle(service: service, shutdown: shutdown)
        let runtime = try DaemonRuntime(config: config)
        processor = RequestProcessor(
            queue: queue, stateStore: try SQLiteStateStore(path: dir + "/state.sqlite"),
            lanes: [DirectoryLane(name: d.name, directory: service, capacity: d.connections)], notifier: nil, auditTrail: nil,
            hashes: HistoryHashPool(threads: 2, hasher: PasswordHistoryHasher(logN: 10)), state: DaemonState(runtime: runtime),
            metrics: DaemonMetrics(), logger: Logger(label: "test.pipeline"), owner: "pipeline-\(UUID().uuidString.prefix(8))",
            clock: { Date() })
    }

    /// One request through the pipeline; returns its recorded outcome as `code` or `code/detail`.
    func run(_ kind: RequestKind, user: String, new: String?, old: String? = nil) async throws -> String {
        var b = RequestBuilder(kind: kind, user: user, initiator: .admin(name: "truth-table"))
        b.licenses = ["AAD_PREMIUM"]
        let row = try sealer.build(b, newPassword: new.map { Secret($0) }, oldPassword: old.map { Secret($0) })
        try await queue.enqueue(id: row.id, payload: row.payload, signature: row.signature)
        let claimed = try await queue.claim(limit: 1, owner: processor.owner, lease: .seconds(120), now: Date())
        guard let mine = claimed.first(where: { $0.id == row.id }) else { return "not claimed" }
        await processor.process(mine)
        guard let s = try await queue.summary(id: row.id) else { return "missing" }
        return [s.outcome ?? s.state.rawValue, s.detail].compactMap { $0 }.joined(separator: "/")
    }

    func close() async {
        await directory.shutdown()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
