import Foundation
import WritebackCore

/// The producer's view of a payload v1 request before it is sealed and signed: what
/// `writebackctl enqueue` fills from its flags, and what tests start from. `json(...)` lays the
/// fields out in a fixed order (DESIGN.md's order), so the same request gives the same bytes.
public struct RequestBuilder: Sendable {
    public var id: String
    public var kind: RequestKind
    public var user: String
    /// nil: the field is left out (the daemon's default, true, applies).
    public var unlock: Bool?
    public var initiator: Initiator
    public var issuedAt: Date
    public var expiresAt: Date
    /// Required when `initiator` is `.user`.
    public var verification: Verification?
    public var licenses: [String]?
    public var mustChangeAtNextLogon: Bool?
    public var locale: String?

    /// A request with a fresh lower-case UUID, issued now, expiring after `ttl` seconds.
    public init(kind: RequestKind, user: String, initiator: Initiator = .user, verification: Verification? = nil,
                ttl: TimeInterval = 900, now: Date = Date(), id: String = UUID().uuidString.lowercased()) {
        self.id = id; self.kind = kind; self.user = user; self.initiator = initiator
        self.verification = verification
        // Whole seconds: the RFC 3339 text carries no fraction.
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        self.issuedAt = issued
        self.expiresAt = issued.addingTimeInterval(ttl.rounded(.up))
    }

    /// The payload as a JSON value, with the sealed fields given.
    public func json(newPassword: SealedValue?, oldPassword: SealedValue?) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("v", .number("1")), ("id", .string(id)), ("kind", .string(kind.rawValue)), ("user", .string(user)),
        ]
        if let unlock { members.append(("unlock", .bool(unlock))) }
        switch initiator {
        case .user: members.append(("initiator", .object(["type": .string("self")])))
        case .admin(let name): members.append(("initiator", .object(["type": .string("admin"), "name": .string(name)])))
        }
        members.append(("issued_at", .string(RFC3339.format(issuedAt))))
        members.append(("expires_at", .string(RFC3339.format(expiresAt))))
        if let v = verification {
            var vm: [(String, JSONValue)] = [
                ("methods_passed", .strings(v.methodsPassed)), ("registered_methods", .strings(v.registeredMethods)),
            ]
            if let at = v.registrationConfirmedAt { vm.append(("registration_confirmed_at", .string(RFC3339.format(at)))) }
            members.append(("verification", .object(vm.map { JSONMember(key: $0.0, value: $0.1, valueRange: 0..<0) })))
        }
        if let licenses { members.append(("licenses", .strings(licenses))) }
        if let mustChangeAtNextLogon { members.append(("must_change_at_next_logon", .bool(mustChangeAtNextLogon))) }
        if let locale { members.append(("locale", .string(locale))) }
        if let newPassword { members.append(("new_password", Self.sealedJSON(newPassword))) }
        if let oldPassword { members.append(("old_password", Self.sealedJSON(oldPassword))) }
        return .object(members.map { JSONMember(key: $0.0, value: $0.1, valueRange: 0..<0) })
    }

    /// `{"enc": base64, "ct": base64}`
    public static func sealedJSON(_ sealed: SealedValue) -> JSONValue {
        .object(["enc": .string(sealed.enc.base64EncodedString()), "ct": .string(sealed.ct.base64EncodedString())])
    }
}
