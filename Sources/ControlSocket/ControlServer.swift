import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Why the control server could not start or a connection was dropped.
public enum ControlServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `[control] group` or `admin_group` names a group that does not exist.
    case unknownGroup(String)
    /// The socket's directory could not be created, or its mode/group could not be set.
    case socketSetup(path: String, reason: String)
    /// A request line exceeded the limit.
    case lineTooLong(Int)

    public var description: String {
        switch self {
        case .unknownGroup(let g): "group \"\(g)\" does not exist"
        case .socketSetup(let p, let r): "control socket \(p): \(r)"
        case .lineTooLong(let n): "request line longer than \(n) bytes"
        }
    }
}

/// The control socket (DESIGN.md "Control socket"): a Unix stream socket speaking NDJSON, one
/// request and one reply per line. Peer credentials decide what a client may do; a refusal is
/// answered and logged. Each connection runs in its own child task and never throws out of
/// it, so a misbehaving client can only lose its own connection (style.md habit 10).
public final class ControlServer: Sendable {
    public let path: String
    let access: ControlAccessPolicy
    let handler: any ControlHandler
    let logger: Logger
    let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    let connections = Mutex(0)

    static let maxLine = 64 * 1024
    static let maxConnections = 64

    /// Binds the socket (replacing a stale socket file), then sets its mode: 0660 with the
    /// configured group, or 0600 when `group` is "".
    public init(path: String, group: String, adminGroup: String, handler: any ControlHandler,
                logger: Logger, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        self.path = path
        self.access = try ControlAccessPolicy(group: group, adminGroup: adminGroup)
        self.handler = handler
        self.logger = logger
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            } catch { throw ControlServerError.socketSetup(path: path, reason: "cannot create \(directory): \(error.localizedDescription)") }
        }
        self.server = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 32)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(60)))
                    try channel.pipeline.syncOperations.addHandler(CloseOnIdleHandler())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: ControlServer.maxLine)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let gid = access.readGroup.map { gid_t($0) } ?? gid_t.max  // (gid_t)-1: leave the group
        let mode: mode_t = access.readGroup == nil ? 0o600 : 0o660
        if chown(path, uid_t.max, gid) != 0 || chmod(path, mode) != 0 {
            let reason = String(cString: strerror(errno))
            try? await server.channel.close()
            throw ControlServerError.socketSetup(path: path, reason: "cannot set mode/group: \(reason)")
        }
    }

    /// Serves until the task is cancelled; then closes the socket and removes its file.
    public func run() async throws {
        defer { unlink(path) }
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    let admitted = connections.withLock { n in
                        if n >= Self.maxConnections { return false }
                        n += 1; return true
                    }
                    guard admitted else {
                        logger.warning("control: too many connections, closing one", metadata: ["limit": "\(Self.maxConnections)"])
                        try? await connection.channel.close()
                        continue
                    }
                    group.addTask {
                        await self.serve(connection)
                        self.connections.withLock { $0 -= 1 }
                    }
                }
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        do {
            let peer = try await peerCredentials(of: connection.channel)
            try await connection.executeThenClose { inbound, outbound in
                for try await line in inbound {
                    let reply = await answer(line: line, peer: peer)
                    var data = reply.encodedLine()
                    data.append(UInt8(ascii: "\n"))
                    try await outbound.write(ByteBuffer(bytes: data))
                }
            }
        } catch {
            logger.debug("control: connection closed", metadata: ["reason": "\(error)"])
        }
    }

    func answer(line: ByteBuffer, peer: PeerCredentials) async -> ControlReply {
        let request: ControlRequest
        do {
            request = try JSONDecoder().decode(ControlRequest.self, from: Data(line.readableBytesView))
        } catch {
            return .failure("bad_request", "a request is one JSON object per line, e.g. {\"command\":\"status\"}")
        }
        guard let command = ControlCommand(rawValue: request.command) else {
            return .failure("unknown_command", "unknown command \"\(request.command)\"; known: \(ControlCommand.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let right = access.right(of: peer)
        guard right >= command.requiredRight else {
            logger.warning("control: refused", metadata: ["command": "\(command.rawValue)", "peer": "\(peer)", "needs": "\(command.requiredRight.rawValue)"])
            let who = command.requiredRight == .admin ? "root or a member of [control] admin_group" : "root or a member of [control] group"
            return .failure("refused", "permission refused: \(command.rawValue) needs \(who); you are \(peer.userName) (uid \(peer.uid))")
        }
        return await handler.handle(command, request: request, peer: peer)
    }

    private func peerCredentials(of channel: any Channel) async throws -> PeerCredentials {
        guard let provider = channel as? any SocketOptionProvider else { throw ControlServerError.socketSetup(path: path, reason: "no socket options") }
        let raw: RawUcred = try await provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET), name: NIOBSDSocket.Option(rawValue: SO_PEERCRED)
        ).get()
        return PeerCredentials.resolve(pid: raw.pid, uid: raw.uid, gid: raw.gid)
    }
}

extension ControlReply {
    /// The reply as one compact JSON line (without the newline).
    public func encodedLine() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data(#"{"ok":false,"error":"failed","message":"unencodable reply"}"#.utf8)
    }
}
