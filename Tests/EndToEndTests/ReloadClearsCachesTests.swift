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
}
