import Foundation

/// What a request asks for.
public enum RequestKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// Forgotten password: set a new one (administrative reset), unlocking by default.
    case reset
    /// Unlock the account, leave the password alone.
    case unlock
    /// The user knows the old password and changes it (the directory checks the old one).
    case change
}

/// Who started the request. An administrator vouches for the user, so the user's own
/// verification is not required; every other check still applies.
public enum Initiator: Sendable, Hashable {
    case user
    case admin(name: String)

    public var isAdmin: Bool { if case .admin = self { true } else { false } }
    /// For audit lines: `self` or `admin:NAME`.
    public var auditName: String {
        switch self {
        case .user: "self"
        case .admin(let name): "admin:\(name)"
        }
    }
}

/// How the portal verified the user before queueing the request (DESIGN.md, `verification`).
public struct Verification: Sendable, Hashable {
    public var methodsPassed: [String]
    public var registeredMethods: [String]
    public var registrationConfirmedAt: Date?

    public init(methodsPassed: [String], registeredMethods: [String], registrationConfirmedAt: Date?) {
        self.methodsPassed = methodsPassed
        self.registeredMethods = registeredMethods
        self.registrationConfirmedAt = registrationConfirmedAt
    }
}

/// An HPKE-sealed field as it travels in the payload: `{"enc": base64, "ct": base64}`.
public struct SealedValue: Sendable, Hashable {
    public var enc: Data
    public var ct: Data
    public init(enc: Data, ct: Data) { self.enc = enc; self.ct = ct }
}

/// A payload v1 request whose signature has verified and whose shape is valid. Sealed
/// passwords are still sealed: they are opened only right before the policy check and write.
public struct ResetRequest: Sendable, Hashable {
    public var id: String
    public var kind: RequestKind
    public var user: String
    /// A reset also unlocks unless the producer said `"unlock": false`.
    public var unlock: Bool
    public var initiator: Initiator
    public var issuedAt: Date
    public var expiresAt: Date
    public var verification: Verification?
    public var licenses: [String]
    public var mustChangeAtNextLogon: Bool
    public var locale: String?
    public var newPassword: SealedValue?
    public var oldPassword: SealedValue?

    public init(
        id: String, kind: RequestKind, user: String, unlock: Bool = true, initiator: Initiator,
        issuedAt: Date, expiresAt: Date, verification: Verification?, licenses: [String] = [],
        mustChangeAtNextLogon: Bool = false, locale: String? = nil,
        newPassword: SealedValue? = nil, oldPassword: SealedValue? = nil
    ) {
        self.id = id; self.kind = kind; self.user = user; self.unlock = unlock
        self.initiator = initiator; self.issuedAt = issuedAt; self.expiresAt = expiresAt
        self.verification = verification; self.licenses = licenses
        self.mustChangeAtNextLogon = mustChangeAtNextLogon; self.locale = locale
        self.newPassword = newPassword; self.oldPassword = oldPassword
    }
}
