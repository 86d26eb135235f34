/// The lifecycle state of a queued request, as a producer reads it from `reset_requests.state`.
public enum RequestState: String, Sendable, Codable, CaseIterable, Hashable {
    case pending
    case inProgress = "in_progress"
    case succeeded
    case rejected
    case failed

    /// Whether the request will never change again.
    public var isTerminal: Bool { self == .succeeded || self == .rejected || self == .failed }
}

/// Every outcome code of the contract (DESIGN.md, "Outcome codes"). The raw value is the code a
/// producer reads from `reset_requests.outcome`.
public enum OutcomeCode: String, Sendable, Codable, CaseIterable, Hashable {
    case succeeded
    // Refusals: the request was understood and deliberately not applied.
    case invalidRequest = "invalid_request"
    case expired
    case replayed
    case ssprDisabled = "sspr_disabled"
    case notInScope = "not_in_scope"
    case notLicensed = "not_licensed"
    case notRegistered = "not_registered"
    case insufficientVerification = "insufficient_verification"
    case notManaged = "not_managed"
    case ambiguousUser = "ambiguous_user"
    case accountDisabled = "account_disabled"
    case protectedAccount = "protected_account"
    case throttled
    case wrongOldPassword = "wrong_old_password"
    case passwordPolicy = "password_policy"
    // Failures: the daemon could not do what was allowed.
    case directoryPermission = "directory_permission"
    case directoryUnavailable = "directory_unavailable"
    case directoryError = "directory_error"

    /// The terminal state this code puts a request in.
    public var state: RequestState {
        switch self {
        case .succeeded: .succeeded
        case .directoryPermission, .directoryUnavailable, .directoryError: .failed
        default: .rejected
        }
    }
}

/// The password rules a `password_policy` refusal names in its `detail`, in the order they are
/// tried (DESIGN.md: the first failing rule is the detail).
public enum PasswordRule: String, Sendable, Codable, CaseIterable, Hashable {
    case tooShort = "too_short"
    case tooLong = "too_long"
    case complexity
    case containsUserName = "contains_user_name"
    case banned
    case breached
    case history
    case tooYoung = "too_young"
    case directoryRule = "directory_rule"
}

/// What happened to one request: a code and, where the contract asks for one, a detail
/// (the failing password rule, the offending field of an invalid request, ...).
/// A detail never contains a secret.
public struct Outcome: Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: OutcomeCode
    public var detail: String?

    public init(_ code: OutcomeCode, detail: String? = nil) {
        self.code = code
        self.detail = detail
    }

    public static let succeeded = Outcome(.succeeded)
    public static func passwordPolicy(_ rule: PasswordRule) -> Outcome { Outcome(.passwordPolicy, detail: rule.rawValue) }

    public var state: RequestState { code.state }
    public var description: String { detail.map { "\(code.rawValue)/\($0)" } ?? code.rawValue }
}
