import ArgumentParser
import Foundation
import Logging
import RequestCodec
import RequestQueue
import WritebackConfig
import WritebackCore
import WritebackDaemon

/// `writebackctl enqueue`: the reference producer (DESIGN.md "Commands"). Builds one payload
/// v1 request, seals the password(s) read from stdin to `[keys] sealing_public_key`, signs
/// the exact bytes with the producer key and inserts the row; prints the id. Its code is the
/// executable specification for portals written in other languages.
struct Enqueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Build, seal, sign and queue one request; print its id.",
        discussion: """
            Passwords are read on standard input with --password-stdin, never from an argument.
            reset: one password (one trailing newline is dropped). change: two lines, the old
            password first, then the new one. unlock: no password.
            """)

    @Option(name: .long, help: "Configuration file (queue path, sealing public key).")
    var config: String = ConfigLoader.defaultPath
    @Option(name: .long, help: "The producer's Ed25519 private key (PEM).")
    var signingKey: String
    @Option(name: .long, help: "The user, as the portal knows them (matched against identity attributes).")
    var user: String
    @Option(name: .long, help: "reset | unlock | change")
    var kind: String
    @Flag(name: .long, help: "Read the password(s) from standard input.")
    var passwordStdin = false
    @Option(name: .long, help: "Licence SKUs, comma separated.")
    var licenses: String?
    @Option(name: .long, help: "Verification methods the user passed, comma separated.")
    var methods: String?
    @Option(name: .long, help: "Methods the user has registered, comma separated.")
    var registered: String?
    @Option(name: .long, help: "When the registration was last confirmed (RFC 3339; default: now, if --registered is given).")
    var registeredAt: String?
    @Option(name: .long, help: "self | admin:NAME")
    var initiator: String = "self"
    @Flag(name: .long, help: "Require a password change at next logon.")
    var mustChange = false
    @Flag(name: .long, help: "A reset that does not unlock the account.")
    var noUnlock = false
    @Option(name: .long, help: "BCP 47 language tag for the confirmation message.")
    var locale: String?
    @Option(name: .long, help: "Seconds until the request expires.")
    var ttl: Int = 900
    @Option(name: .long, help: "Use this request id (UUID) instead of a new one.")
    var id: String?
    @Flag(name: .long, help: "Print {\"id\": ...} as JSON.")
    var json = false

    func run() async throws {
        do {
            let id = try await enqueue()
            if json {
                print(String(decoding: JSONValue.object(["id": .string(id)]).serialized(), as: UTF8.self))
            } else {
                print(id)
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("writebackctl enqueue: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    private func enqueue() async throws -> String {
        guard let kind = RequestKind(rawValue: kind) else { throw ValidationError("--kind must be reset, unlock or change") }
        guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
        let who = try parseInitiator(initiator)
        let configuration = try ConfigLoader.load(path: config)
        let sealer = try RequestSealer(sealingPublicKeyPath: configuration.keys.sealingPublicKey, signingKeyPath: signingKey)

        let registeredList = list(registered) ?? []
        var confirmedAt: Date? = registeredList.isEmpty ? nil : Date()
        if let registeredAt {
            guard let date = RFC3339.parse(registeredAt) else { throw ValidationError("--registered-at is not RFC 3339") }
            confirmedAt = date
        }
        let verification = (who == .user || methods != nil || registered != nil)
            ? Verification(methodsPassed: list(methods) ?? [], registeredMethods: registeredList, registrationConfirmedAt: confirmedAt)
            : nil
        var builder = RequestBuilder(kind: kind, user: user, initiator: who, verification: verification, ttl: TimeInterval(ttl))
        if let id {
            guard PayloadV1.isCanonicalUUID(id) else { throw ValidationError("--id must be a UUID") }
            builder.id = id
        }
        builder.licenses = list(licenses)
        if mustChange { builder.mustChangeAtNextLogon = true }
        if noUnlock { builder.unlock = false }
        builder.locale = locale

        var newPassword: Secret?
        var oldPassword: Secret?
        switch kind {
        case .unlock:
            guard !passwordStdin else { throw ValidationError("--kind unlock takes no password") }
        case .reset:
            guard passwordStdin else { throw ValidationError("--kind reset needs --password-stdin") }
            newPassword = try StdinPasswords.one()
        case .change:
            guard passwordStdin else { throw ValidationError("--kind change needs --password-stdin (old password line, then new)") }
            (oldPassword, newPassword) = try StdinPasswords.two()
        }
        let row = try sealer.build(builder, newPassword: newPassword, oldPassword: oldPassword)
        let queue = try await Storage.queue(configuration.queue, logger: Logger(label: "writebackctl"))
        try await queue.enqueue(id: row.id, payload: row.payload, signature: row.signature)
        return row.id
    }

    private func list(_ text: String?) -> [String]? {
        text.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    private func parseInitiator(_ text: String) throws -> Initiator {
        if text == "self" { return .user }
        if text.hasPrefix("admin:"), text.count > 6 { return .admin(name: String(text.dropFirst(6))) }
        throw ValidationError("--initiator must be self or admin:NAME")
    }
}
