import Foundation
import Logging
import RequestCodec
import Synchronization
import Testing
import TestSupport
import WritebackCore
@testable import WritebackDaemon

/// SIGHUP (and the control socket's `reload`) clears what the directory service cached —
/// group readability, effective password policies — whether or not the new file loads.
@Suite struct ReloadClearsCachesTests {
    final class CountingDirectory: PasswordDirectory {
        let clears = Mutex(0)
        func findUser(identity: String, groupsOfInterest: [String]) async throws(DirectoryError) -> DirectoryUser { throw .notFound }
        func apply(_ write: PasswordWrite, to user: DirectoryUser) async throws(DirectoryError) {}
        func readBack(user: DirectoryUser, intentStamp: String?, newPassword: Secret?) async throws(DirectoryError) -> ReadbackVerdict { .notApplied }
        func health() async -> [EndpointHealth] { [] }
        func clearCaches() { clears.withLock { $0 += 1 } }
    }

    @Test("every reload clears the directory's caches, a failed one too")
    func reloadClears() throws {
        let dir = try Slapd.makeTempDir(prefix: "reload")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PEMKeys.generate(into: dir + "/keys")
        let keys = KeysConfig(producerPublicKeys: [dir + "/keys/producer-signing.pub"], sealingPrivateKey: dir + "/keys/daemon-sealing.key",
                              sealingPublicKey: dir + "/keys/daemon-sealing.pub")
        let config = Configuration(directory: DirectoryConfig(flavor: .openldap, uris: ["ldapi:///"], baseDN: "dc=example,dc=org"),
                                   queue: QueueConfig(path: dir + "/q.sqlite"), keys: keys, outbox: OutboxConfig(dir: dir + "/outbox"),
                                   state: StateConfig(path: dir + "/s.sqlite"))
        let directory = CountingDirectory()
        let reloader = ConfigReloader(path: dir + "/missing.toml", state: DaemonState(runtime: try DaemonRuntime(config: config)),
                                      logger: Logger(label: "test.reload"), directories: [directory])
        #expect(reloader.reload() != nil, "the file does not exist: the old configuration stays")
        #expect(directory.clears.withLock { $0 } == 1)
        _ = reloader.reload()
        #expect(directory.clears.withLock { $0 } == 2)
    }

    /// One edit of the file between two reloads, and the sections it should name.
    enum Edit: String, CaseIterable, Sendable {
        case pollAndRules, queueFile, notifyChannel, watchFile, auditTrail, outboxAndControl

        func apply(_ c: inout Configuration) {
            switch self {
            case .pollAndRules: c.queue.pollIntervalMs = 2000; c.policy.minLength = 12
            case .queueFile: c.queue.path = "/elsewhere/q.sqlite"
            case .notifyChannel: c.queue.notifyChannel = "other"; c.queue.pollIntervalMs = 2000
            case .watchFile: c.queue.watchFile = false
            case .auditTrail: c.audit.batchLines = 7
            case .outboxAndControl: c.outbox.organization = "Other"; c.control.group = ""
            }
        }

        var sections: [String] {
            switch self {
            case .pollAndRules: []
            case .queueFile, .notifyChannel, .watchFile: ["queue"]
            case .auditTrail: ["audit"]
            case .outboxAndControl: ["control", "outbox"]
            }
        }
    }

    @Test("a reload keeps what is read only at start and names its sections; the rest takes effect", arguments: Edit.allCases)
    func restartOnly(_ edit: Edit) {
        let label = edit.rawValue, sections = edit.sections
        let running = Configuration(directory: DirectoryConfig(flavor: .openldap, uris: ["ldapi:///"], baseDN: "dc=example,dc=org"),
                                    queue: QueueConfig(path: "/tmp/q.sqlite"),
                                    keys: KeysConfig(producerPublicKeys: ["/k.pub"], sealingPrivateKey: "/s.key", sealingPublicKey: "/s.pub"),
                                    outbox: OutboxConfig(dir: "/tmp/outbox"), state: StateConfig(path: "/tmp/s.sqlite"))
        var new = running
        edit.apply(&new)
        let (kept, named) = ConfigReloader.keepingRestartOnly(new, running: running)
        #expect(named.sorted() == sections.sorted(), "\(label)")
        // What needs a restart is the running one's; what reloads is the new file's.
        #expect(kept.queue.path == running.queue.path && kept.queue.notifyChannel == running.queue.notifyChannel
                && kept.queue.watchFile == running.queue.watchFile && kept.audit == running.audit
                && kept.outbox == running.outbox && kept.control == running.control, "\(label)")
        #expect(kept.queue.pollIntervalMs == new.queue.pollIntervalMs && kept.policy == new.policy, "\(label)")
    }
}
