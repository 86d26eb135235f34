// swift-tools-version:6.0
// writebackd: an on-premises password writeback daemon. See README.md and ../shared/DESIGN.md.
import PackageDescription

let package = Package(
    name: "writebackd",
    platforms: [.macOS(.v15)],   // Mutex, Atomic, TaskExecutor; the daemon itself targets Linux
    products: [
        .executable(name: "writebackd", targets: ["writebackd"]),
        .executable(name: "writebackctl", targets: ["writebackctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
    ],
    targets: [
        // The same queue and state store on PostgreSQL (postgres-nio), for several daemons.
        .target(name: "PostgresQueue", dependencies: [
            "WritebackCore", "RequestCodec", "RequestQueue",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // libldap / liblber, wrapped once by LDAPDirectory. No other module sees a C pointer.
        .systemLibrary(name: "CLDAP", pkgConfig: "ldap", providers: [.apt(["libldap2-dev", "libsasl2-dev"])]),

        // Shared vocabulary: requests, outcomes, user facts, secrets, configuration, and the
        // protocols (directory, queue, state, notifier) the engine talks to. No I/O, no C.
        .target(name: "WritebackCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // TOML → validated Configuration, with file/line/key in every error.
        .target(name: "WritebackConfig", dependencies: ["WritebackCore", "TOMLKit"]),
        // Payload v1: strict decoding, Ed25519 signatures, HPKE sealing, PEM keys.
        .target(name: "RequestCodec", dependencies: [
            "WritebackCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // Eligibility and password rules, localized messages. Pure: facts in, verdicts out.
        .target(name: "WritebackPolicy", dependencies: [
            "WritebackCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // The durable queue and the daemon's state store on SQLite (GRDB).
        .target(name: "RequestQueue", dependencies: [
            "WritebackCore", "RequestCodec",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // libldap behind a Swift API: connection pool on dedicated threads, AD and OpenLDAP.
        .target(name: "LDAPDirectory", dependencies: [
            "CLDAP", "WritebackCore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Confirmation e-mails: RFC 5322 messages, templates, atomic outbox, sendmail delivery.
        .target(name: "Outbox", dependencies: [
            "WritebackCore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The control socket: NDJSON over a Unix socket, peer credentials, server and client.
        .target(name: "ControlSocket", dependencies: [
            "WritebackCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The tamper-evident audit trail: hash-chained JSON lines, Ed25519-signed batches, the
        // verifier `writebackctl audit verify` runs, and the daemon's file writer.
        .target(name: "AuditTrail", dependencies: [
            "WritebackCore", "RequestCodec",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The daemon's services: poller, workers, pipeline, metrics, systemd notify.
        .target(name: "WritebackDaemon", dependencies: [
            "WritebackCore", "WritebackConfig", "RequestCodec", "WritebackPolicy", "RequestQueue", "PostgresQueue",
            "LDAPDirectory", "Outbox", "ControlSocket", "AuditTrail",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .executableTarget(name: "writebackd", dependencies: [
            "WritebackDaemon",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "writebackctl", dependencies: [
            "WritebackDaemon", "AuditTrail",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // `make bench`: figures and ratios against a baseline measured in the same run.
        .executableTarget(name: "writeback-bench", dependencies: [
            "WritebackDaemon", "WritebackCore", "WritebackPolicy", "RequestCodec", "RequestQueue", "PostgresQueue", "LDAPDirectory", "ControlSocket",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "TestSupport", dependencies: ["WritebackCore"], path: "Tests/TestSupport"),
        .testTarget(name: "WritebackCoreTests", dependencies: ["WritebackCore"]),
        .testTarget(name: "WritebackConfigTests", dependencies: ["WritebackConfig", "TestSupport"]),
        .testTarget(name: "RequestCodecTests", dependencies: ["RequestCodec", "TestSupport"]),
        .testTarget(name: "WritebackPolicyTests", dependencies: ["WritebackPolicy", "TestSupport"]),
        .testTarget(name: "RequestQueueTests", dependencies: ["RequestQueue", "RequestCodec", "TestSupport",
                                                          .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "PostgresQueueTests", dependencies: ["PostgresQueue", "RequestQueue", "RequestCodec", "TestSupport"]),
        .testTarget(name: "LDAPDirectoryTests", dependencies: ["LDAPDirectory", "WritebackPolicy", "TestSupport"]),
        .testTarget(name: "OutboxTests", dependencies: ["Outbox", "TestSupport"]),
        .testTarget(name: "AuditTrailTests", dependencies: ["AuditTrail", "RequestCodec", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["WritebackDaemon", "PostgresQueue", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
