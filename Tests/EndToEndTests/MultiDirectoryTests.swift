import ControlSocket
import Foundation
import RequestCodec
import RequestQueue
import Testing
import TestSupport
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// One daemon, one queue, two real directories: slapd "example" (dc=example,dc=org, routes
/// `@example.org`, `EXAMPLE\`, the default for bare names) and slapd "contoso"
/// (dc=contoso,dc=com, routes `@contoso.com`, `CONTOSO\`). Both trees hold the same user
/// names, so a request written to the wrong directory would show.
@Suite("Several directories routed by the user's domain", .serialized)
struct MultiDirectoryTests {
    /// The setup's configuration with its `[directory]` table replaced by two `[[directory]]`.
    static func configure(_ setup: E2ESetup, example: Slapd, contoso: Slapd, options: E2ESetup.Options) throws {
        func entry(_ name: String, _ slapd: Slapd, routes: String, extra: String) -> String {
            """
            [[directory]]
            name = "\(name)"
            flavor = "openldap"
            uri = ["\(slapd.uri)"]
            start_tls = true
            ca_file = "\(slapd.caFile)"
            base_dn = "\(slapd.baseDN)"
            bind_dn = "\(slapd.bindDN)"
            bind_password_file = "\(slapd.bindPasswordFile)"
            connections = 2
            timeout_seconds = \(options.timeoutSeconds)
            route = \(routes)
            \(extra)

            """
        }
        let single = setup.configText(options)
        guard let rest = single.range(of: "[queue]") else { throw SlapdHarnessError.commandFailed("no [queue] in the E2E configuration") }
        // Group DNs are per directory: example protects its admins (dave), contoso has no such group.
        let text = entry("example", example, routes: #"["@example.org", "EXAMPLE\\"]"#,
                         extra: "default = true\n\n[directory.policy]\nprotected_groups = [\"cn=admins,ou=groups,\(example.baseDN)\"]")
            + entry("contoso", contoso, routes: #"["@contoso.com", "CONTOSO\\"]"#, extra: "[directory.policy]\nmin_length = 12")
            + String(single[rest.lowerBound...])
        try text.write(toFile: setup.configPath, atomically: true, encoding: .utf8)
    }

    /// A random password that cannot trip contains_user_name: the test users' three-letter
    /// name tokens (Bob Brown, Frank Fox) are the only ones a random 14 characters may hold.
    static func password() -> String {
        while true {
            let p = E2ESetup.newPassword()
            if !["bob", "fox"].contains(where: p.lowercased().contains) { return p }
        }
    }

    func enqueue(_ setup: E2ESetup, user: String, password: String) async throws -> String {
        let row = try setup.resetRow(user: user, password: password)
        try await setup.queue().enqueue(id: row.id, payload: row.payload, signature: row.signature)
        return row.id
    }

    func waitTerminal(_ queue: SQLiteRequestQueue, _ ids: [String], timeout: TimeInterval = 90) async -> Bool {
        await eventually(timeout: timeout) {
            for id in ids where (try? await queue.summary(id: id))?.state.isTerminal != true { return false }
            return true
        }
    }

    @Test("one queue, two slapds: every request is written where its user belongs, and only there")
    func routedWrites() async throws {
        try await withSlapd { example in
            try await withSlapd(baseDN: "dc=contoso,dc=com") { contoso in
                let options = E2ESetup.Options(pollIntervalMs: 200, timeoutSeconds: 2)
                let setup = try E2ESetup(slapd: example, options: options)
                defer { setup.cleanup() }
                try Self.configure(setup, example: example, contoso: contoso, options: options)
                let daemon = try setup.daemon()
                defer { daemon.stop() }
                #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")

                // (user in the request, directory, uid there)
                // Every uid exists in both trees; each is reset in one only.
                let cases: [(String, Slapd, String)] = [
                    ("alice@example.org", example, "alice"),   // mail, looked up whole
                    ("bob@contoso.com", contoso, "bob"),
                    ("CONTOSO\\erin", contoso, "erin"),        // the prefix is stripped: uid=erin
                    ("EXAMPLE\\carol", example, "carol"),
                    ("frank", example, "frank"),               // bare: the default directory
                    ("Grace@Contoso.COM", contoso, "grace"),   // routes ignore case
                    ("dave@contoso.com", contoso, "dave"),     // contoso's dave is not example's admin
                ]
                let queue = try setup.queue()
                var ids: [String] = [], passwords: [String] = []
                for (user, _, _) in cases {
                    let password = Self.password()
                    passwords.append(password)
                    ids.append(try await enqueue(setup, user: user, password: password))
                }
                let stranger = try await enqueue(setup, user: "mallory@gmail.com", password: Self.password())
                let shortForContoso = try await enqueue(setup, user: "carol@contoso.com", password: "Wb7#short1")  // 10 < contoso's 12
                let protectedInExample = try await enqueue(setup, user: "dave", password: Self.password())

                #expect(await waitTerminal(queue, ids + [stranger, shortForContoso, protectedInExample]), "log: \(daemon.log.suffix(3000))")
                for (i, (user, slapd, uid)) in cases.enumerated() {
                    let s = try await queue.summary(id: ids[i])
                    #expect(s?.outcome == "succeeded", "\(user): \(String(describing: s))")
                    #expect(slapd.bind(user: uid, password: passwords[i]), "\(user): new password not in \(slapd.baseDN)")
                    // The other tree's user of the same name still has the initial password.
                    let other = slapd.baseDN == example.baseDN ? contoso : example
                    #expect(other.bind(user: uid, password: other.initialPassword(of: uid)), "\(user): \(other.baseDN) was written too")
                }
                let refused = try await queue.summary(id: stranger)
                #expect(refused?.outcome == "not_managed")
                #expect(refused?.detail == "no directory has the route \"@gmail.com\"")
                let short = try await queue.summary(id: shortForContoso)
                #expect(short?.outcome == "password_policy" && short?.detail == "too_short", "\(String(describing: short))")
                let admin = try await queue.summary(id: protectedInExample)
                #expect(admin?.outcome == "protected_account" && admin?.detail == "protected_group", "\(String(describing: admin))")

                // status names each directory; metrics and the audit line carry it too.
                let status = try daemon.status()
                let endpoints = status["directory"]?.arrayValue ?? []
                #expect(endpoints.compactMap { $0["name"]?.stringValue } == ["example", "contoso"])
                #expect(endpoints.compactMap { $0["uri"]?.stringValue } == [example.uri, contoso.uri])
                let directories = status["directories"]?.arrayValue ?? []
                #expect(directories.compactMap { $0["state"]?.stringValue } == ["up", "up"])
                #expect(directories.first?["routes"]?.arrayValue?.compactMap(\.stringValue) == ["@example.org", "example\\"])
                let human = try run(ctl: ["status", "--socket", setup.socketPath])
                print("writebackctl status (two directories):\n\(human.stdout)")
                #expect(human.stdout.contains("contoso"))
                let metrics = try run(ctl: ["metrics", "--socket", setup.socketPath]).stdout
                #expect(metrics.contains("writebackd_directory_requests_total{directory=\"contoso\",outcome=\"succeeded\"} 4"), "\(metrics)")
                #expect(metrics.contains("writebackd_directory_requests_total{directory=\"example\",outcome=\"succeeded\"} 3"))
                #expect(metrics.contains("writebackd_requests_total{outcome=\"not_managed\"} 1"))
                #expect(metrics.contains("writebackd_directory_up{uri=\"\(contoso.uri)\",directory=\"contoso\"} 1"))
                // requests names each row's directory (none for the request no directory owns).
                let listed = try run(ctl: ["requests", "--socket", setup.socketPath, "--json"])
                let rows = try JSONDecoder().decode(ControlSocket.JSONValue.self, from: Data(listed.stdout.utf8)).arrayValue ?? []
                var directoryOf: [String: ControlSocket.JSONValue] = [:]
                for row in rows { if let id = row["id"]?.stringValue { directoryOf[id] = row["directory"] ?? .null } }
                for (i, (user, slapd, _)) in cases.enumerated() {
                    #expect(directoryOf[ids[i]]?.stringValue == (slapd.baseDN == contoso.baseDN ? "contoso" : "example"), "\(user)")
                }
                #expect(directoryOf[stranger] == .null)
                #expect(directoryOf[shortForContoso]?.stringValue == "contoso")
                print("writebackctl requests (two directories):\n\(try run(ctl: ["requests", "--socket", setup.socketPath]).stdout)")
                // doctor checks each directory and says which.
                let doctor = try run(ctl: ["doctor", "--config", setup.configPath])
                for (name, slapd) in [("example", example), ("contoso", contoso)] {
                    #expect(doctor.stdout.contains("✓ directory[\(name)] \(slapd.uri) bind: bound as \(slapd.bindDN)"), "\(doctor.stdout)")
                }
                #expect(doctor.stdout.contains("example: openldap, 1 URI (@example.org, example\\, default); contoso: openldap, 1 URI"))
                let audit = daemon.log.split(separator: "\n").filter { $0.contains("\"audit\":\"request\"") }
                #expect(audit.filter { $0.contains("\"directory\":\"contoso\"") }.count == 5)
                #expect(audit.filter { $0.contains("\"directory\":\"example\"") }.count == 4)

                // SIGHUP: a directory's rules reload (contoso's min_length 12 → 10); its routes
                // and connections wait for a restart, and the log says so.
                let loadedAt = status["config_loaded_at"]?.stringValue
                let config = try String(contentsOfFile: setup.configPath, encoding: .utf8)
                try config.replacingOccurrences(of: "min_length = 12", with: "min_length = 10")
                    .replacingOccurrences(of: #"["@contoso.com", "CONTOSO\\"]"#, with: #"["@contoso.com", "CONTOSO\\", "@contoso.net"]"#)
                    .write(toFile: setup.configPath, atomically: true, encoding: .utf8)
                daemon.signal(SIGHUP)
                #expect(await eventually(timeout: 10) { (try? daemon.status())?["config_loaded_at"]?.stringValue != loadedAt })
                #expect(try daemon.status()["config_error"] == .null)
                #expect(daemon.log.contains("changed sections take effect after a restart"))
                let again = try await enqueue(setup, user: "carol@contoso.com", password: "Wb7#short1")
                let unrouted = try await enqueue(setup, user: "carol@contoso.net", password: Self.password())
                #expect(await waitTerminal(queue, [again, unrouted]), "log: \(daemon.log.suffix(2000))")
                #expect(try await queue.summary(id: again)?.outcome == "succeeded")
                #expect(contoso.bind(user: "carol", password: "Wb7#short1"))
                #expect(try await queue.summary(id: unrouted)?.outcome == "not_managed")   // a new route needs a restart
            }
        }
    }

    @Test("a slow directory holds only its own requests: the fast one's drain past its backlog")
    func noHeadOfLineBlocking() async throws {
        try await withSlapd { example in
            try await withSlapd(baseDN: "dc=contoso,dc=com") { contoso in
                let options = E2ESetup.Options(pollIntervalMs: 200, timeoutSeconds: 2, leaseSeconds: 30)
                let setup = try E2ESetup(slapd: example, options: options)
                defer { setup.cleanup() }
                try Self.configure(setup, example: example, contoso: contoso, options: options)
                // Every contoso write takes 6 s; with 2 connections its 8 requests need ≥ 24 s, two
                // at a time. (CI's 2 cores, busy with every other suite, measured fsyncs of
                // seconds: example's own commits need that margin.)
                let daemon = try setup.daemon(environment: ["WRITEBACKD_TEST_WRITE_DELAY_MS": "6000",
                                                            "WRITEBACKD_TEST_FAULT_DIRECTORY": "contoso"])
                defer { daemon.stop() }
                #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
                let queue = try setup.queue()
                // contoso's backlog first, so it is ahead in the queue.
                var slow: [String] = []
                for user in ["alice@contoso.com", "bob@contoso.com", "carol@contoso.com", "dave@contoso.com",
                             "CONTOSO\\erin", "CONTOSO\\frank", "grace@contoso.com", "CONTOSO\\alice"] {
                    slow.append(try await enqueue(setup, user: user, password: Self.password()))
                }
                var fast: [String] = []
                for uid in ["alice", "bob", "carol", "frank"] {
                    fast.append(try await enqueue(setup, user: uid, password: Self.password()))
                }
                let queued = Date()
                #expect(await waitTerminal(queue, fast, timeout: 60), "example's requests held: \(daemon.log.suffix(3000))")
                let fastSeconds = Date().timeIntervalSince(queued)
                var slowOpen = 0
                for id in slow where (try await queue.summary(id: id))?.state.isTerminal != true { slowOpen += 1 }
                // Were example's requests queued behind contoso's, they would finish after all of
                // them (0 open); at least the last pair still waits for its 18 s.
                #expect(slowOpen >= 2, "only \(slowOpen) of contoso's 8 still open when example's 4 were done (\(fastSeconds) s)")
                for id in fast { #expect(try await queue.summary(id: id)?.outcome == "succeeded") }
                #expect(await waitTerminal(queue, slow, timeout: 120), "contoso's backlog did not drain: \(daemon.log.suffix(3000))")
                for id in slow {
                    let s = try await queue.summary(id: id)
                    #expect(s?.outcome == "succeeded" && s?.attempts == 0, "\(String(describing: s))")
                }
                print("E2E no head-of-line blocking: \(slowOpen) of contoso's 8 slow requests open when example's 4 were done, \(String(format: "%.1f", fastSeconds)) s after they were queued")
            }
        }
    }

    @Test("one directory stopped: the other's requests complete; the stopped one's wait without attempts, then complete")
    func oneDirectoryDown() async throws {
        try await withSlapd { example in
            try await withSlapd(baseDN: "dc=contoso,dc=com") { contoso in
                let options = E2ESetup.Options(pollIntervalMs: 200, timeoutSeconds: 1, leaseSeconds: 10)
                let setup = try E2ESetup(slapd: example, options: options)
                defer { setup.cleanup() }
                try Self.configure(setup, example: example, contoso: contoso, options: options)
                let daemon = try setup.daemon()
                defer { daemon.stop() }
                #expect(await daemon.waitReady(), "daemon not ready: \(daemon.log)")
                let queue = try setup.queue()

                contoso.suspend()
                var resumed = false
                defer { if !resumed { contoso.resume() } }
                // Contoso's first, so they are ahead of example's in the queue.
                var waiting: [String] = []
                for uid in ["alice", "bob", "carol", "dave"] {
                    waiting.append(try await enqueue(setup, user: "\(uid)@contoso.com", password: Self.password()))
                }
                var flowing: [String] = []
                for uid in ["alice", "bob", "carol", "frank", "grace", "erin"] {
                    flowing.append(try await enqueue(setup, user: uid, password: Self.password()))
                }
                #expect(await waitTerminal(queue, flowing, timeout: 60), "example's requests held: \(daemon.log.suffix(3000))")
                for id in flowing { #expect(try await queue.summary(id: id)?.outcome == "succeeded") }
                let down = await eventually(timeout: 20) {
                    (try? daemon.status())?["directories"]?.arrayValue?.last?["state"]?.stringValue == "down"
                }
                #expect(down, "contoso never shown down")
                #expect(try daemon.status()["state"]?.stringValue == "running", "one directory down is not directory_down")
                try await Task.sleep(for: .seconds(3))
                for id in waiting {
                    let s = try await queue.summary(id: id)
                    #expect(s?.state.isTerminal == false && s?.attempts == 0, "\(String(describing: s))")
                }

                contoso.resume()
                resumed = true
                #expect(await waitTerminal(queue, waiting, timeout: 90), "contoso's requests did not complete: \(daemon.log.suffix(3000))")
                for id in waiting {
                    let s = try await queue.summary(id: id)
                    #expect(s?.outcome == "succeeded" && s?.attempts == 0, "\(String(describing: s))")
                }
            }
        }
    }
}
