import Foundation
import WritebackCore

/// The value types of the low-level LDAP API (`LDAPHandle`, `LDAPPool`). They exist so that
/// flavours (OpenLDAP, Active Directory) speak LDAP without touching a C pointer: every
/// value here is a copy, owned by Swift.

/// Search scope.
public enum LDAPScope: Int32, Sendable {
    case base = 0, oneLevel = 1, subtree = 2
}

/// One entry of a search result. Attribute names are kept as the server sent them; look them
/// up with `values(_:)`, which ignores case.
public struct LDAPEntry: Sendable, Hashable {
    public var dn: String
    public var attributes: [String: [Data]]

    public init(dn: String, attributes: [String: [Data]]) { self.dn = dn; self.attributes = attributes }

    /// Raw values of `name` (case-insensitive), empty when absent.
    public func values(_ name: String) -> [Data] {
        if let v = attributes[name] { return v }
        let lower = name.lowercased()
        return attributes.first { $0.key.lowercased() == lower }?.value ?? []
    }

    /// UTF-8 values of `name` (values that are not valid UTF-8 are skipped).
    public func strings(_ name: String) -> [String] { values(name).compactMap { String(data: $0, encoding: .utf8) } }

    /// The first UTF-8 value of `name`.
    public func string(_ name: String) -> String? { strings(name).first }
}

/// One change of an LDAP Modify. Values are binary-safe (AD `unicodePwd` is UTF-16LE).
public struct LDAPModification: Sendable {
    public enum Operation: Int32, Sendable { case add = 0, delete = 1, replace = 2 }
    public var operation: Operation
    public var attribute: String
    /// Empty with `.delete`: delete the whole attribute. Empty with `.replace`: remove it.
    public var values: [LDAPValue]

    public init(_ operation: Operation, _ attribute: String, _ values: [LDAPValue] = []) {
        self.operation = operation; self.attribute = attribute; self.values = values
    }
}

/// A value sent to the server: plain bytes, or a secret whose bytes are copied into C memory
/// only for the duration of the call and wiped afterwards.
public enum LDAPValue: Sendable {
    case bytes(Data)
    case secret(Secret)

    public static func string(_ s: String) -> LDAPValue { .bytes(Data(s.utf8)) }
}

/// A request or response control. `value` is the BER-encoded controlValue (nil when absent).
public struct LDAPControl: Sendable, Hashable {
    public var oid: String
    public var critical: Bool
    public var value: Data?
    public init(oid: String, critical: Bool = false, value: Data? = nil) {
        self.oid = oid; self.critical = critical; self.value = value
    }
}

/// The final result of an operation that succeeded (rc 0, or compare true/false), with the
/// response controls and, for extended operations, the response name and value.
public struct LDAPResponse: Sendable {
    public var code: Int32
    public var controls: [LDAPControl]
    public var responseName: String?
    public var responseValue: Data?
    public init(code: Int32 = 0, controls: [LDAPControl] = [], responseName: String? = nil, responseValue: Data? = nil) {
        self.code = code; self.controls = controls; self.responseName = responseName; self.responseValue = responseValue
    }
    public func control(_ oid: String) -> LDAPControl? { controls.first { $0.oid == oid } }
}

/// An LDAP failure as libldap reports it: the result code (negative for client-side errors
/// such as -1 server down, -5 timeout, -11 connect error), the server's diagnostic message,
/// the response controls (ppolicy puts its precise reason there), and where it happened.
public struct LDAPError: Error, Sendable, CustomStringConvertible {
    /// Where the failure happened: `connect`/`bind` failures never reached the operation.
    public enum Phase: String, Sendable { case connect, bind, operation }
    public var code: Int32
    public var message: String
    public var controls: [LDAPControl]
    public var phase: Phase
    public var uri: String?

    public init(code: Int32, message: String, controls: [LDAPControl] = [], phase: Phase = .operation, uri: String? = nil) {
        self.code = code; self.message = message; self.controls = controls; self.phase = phase; self.uri = uri
    }

    public func control(_ oid: String) -> LDAPControl? { controls.first { $0.oid == oid } }

    /// The server could not be reached or went away (-1 server down, -11 connect error).
    public var isConnectionLoss: Bool { code == LDAPCode.serverDown || code == LDAPCode.connectError }

    public var description: String {
        "LDAP \(code) (\(phase.rawValue)\(uri.map { " \($0)" } ?? "")): \(message)"
    }
}

/// Result codes this module decides on (RFC 4511 and libldap's client-side codes).
public enum LDAPCode {
    public static let success: Int32 = 0
    public static let timeLimitExceeded: Int32 = 3
    public static let sizeLimitExceeded: Int32 = 4
    public static let compareFalse: Int32 = 5
    public static let compareTrue: Int32 = 6
    public static let strongAuthRequired: Int32 = 8
    public static let unavailableCriticalExtension: Int32 = 12
    public static let noSuchAttribute: Int32 = 16
    public static let constraintViolation: Int32 = 19
    public static let attributeOrValueExists: Int32 = 20
    public static let noSuchObject: Int32 = 32
    public static let invalidDNSyntax: Int32 = 34
    public static let invalidCredentials: Int32 = 49
    public static let insufficientAccess: Int32 = 50
    public static let busy: Int32 = 51
    public static let unavailable: Int32 = 52
    public static let unwillingToPerform: Int32 = 53
    public static let other: Int32 = 80
    public static let serverDown: Int32 = -1
    public static let localError: Int32 = -2
    public static let timeout: Int32 = -5
    public static let filterError: Int32 = -7
    public static let connectError: Int32 = -11
}
