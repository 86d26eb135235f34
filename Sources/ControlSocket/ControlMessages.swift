import Foundation

/// The commands the control socket understands, and which right each needs. Kept in one
/// place so the server's authorisation and the client's help agree.
public enum ControlCommand: String, Sendable, CaseIterable, Codable {
    case status, requests, metrics, pause, resume, reload

    /// What a peer must be allowed to run this command.
    public var requiredRight: ControlRight {
        switch self {
        case .status, .requests, .metrics: .read
        case .pause, .resume, .reload: .admin
        }
    }
}

/// The two levels of access the contract defines: members of `[control] group` may read,
/// members of `[control] admin_group` (and root) may also steer.
public enum ControlRight: String, Sendable, Comparable {
    case none, read, admin
    private var rank: Int { switch self { case .none: 0; case .read: 1; case .admin: 2 } }
    public static func < (a: ControlRight, b: ControlRight) -> Bool { a.rank < b.rank }
}

/// One request line: `{"command":"requests","state":"pending","limit":10}`.
public struct ControlRequest: Sendable, Codable, Hashable {
    public var command: String
    public var state: String?
    public var limit: Int?
    /// `requests --owner`: only rows held (or recorded) by a daemon whose owner name starts with it.
    public var owner: String?

    public init(command: String, state: String? = nil, limit: Int? = nil, owner: String? = nil) {
        self.command = command; self.state = state; self.limit = limit; self.owner = owner
    }
}

/// One reply line: `{"ok":true,"result":…}` or `{"ok":false,"error":"refused","message":…}`.
/// `error` is a stable code for scripts (`refused`, `bad_request`, `unknown_command`,
/// `failed`); `message` is for people.
public struct ControlReply: Sendable, Codable, Hashable {
    public var ok: Bool
    public var result: JSONValue?
    public var error: String?
    public var message: String?

    public init(ok: Bool, result: JSONValue? = nil, error: String? = nil, message: String? = nil) {
        self.ok = ok; self.result = result; self.error = error; self.message = message
    }

    public static func success(_ result: JSONValue) -> ControlReply { ControlReply(ok: true, result: result) }
    public static func failure(_ code: String, _ message: String) -> ControlReply { ControlReply(ok: false, error: code, message: message) }
}

/// What the daemon plugs into the server: answers an authorised request. Authorisation has
/// already happened when this is called.
public protocol ControlHandler: Sendable {
    func handle(_ command: ControlCommand, request: ControlRequest, peer: PeerCredentials) async -> ControlReply
}
