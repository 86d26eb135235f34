import Foundation
import Testing
@testable import LDAPDirectory
import WritebackCore

/// The AD conventions without a server: `unicodePwd` bytes, FILETIME, filters, error mapping.
@Suite("Active Directory encoding and error mapping")
struct ActiveDirectoryEncodingTests {
    @Test("unicodePwd is the UTF-16LE of the quoted password", arguments: [
        ("abc", [0x22, 0, 0x61, 0, 0x62, 0, 0x63, 0, 0x22, 0]),
        ("", [0x22, 0, 0x22, 0]),
        ("é", [0x22, 0, 0xE9, 0, 0x22, 0]),
        ("密", [0x22, 0, 0xC6, 0x5B, 0x22, 0]),      // U+5BC6
        ("😀", [0x22, 0, 0x3D, 0xD8, 0x00, 0xDE, 0x22, 0]),   // a surrogate pair
    ] as [(String, [UInt8])])
    func unicodePwd(password: String, expected: [UInt8]) throws {
        let value = try #require(ActiveDirectoryEncoding.unicodePwd(Secret(password)))
        #expect(value.withBytes { Array($0) } == expected)
    }

    @Test func unicodePwdRefusesInvalidUTF8() {
        #expect(ActiveDirectoryEncoding.unicodePwd(Secret(bytes: [0x41, 0xFF, 0x42])) == nil)
        #expect(throws: DirectoryError.passwordRejected(.directoryRule, "the password is not valid UTF-8")) {
            try ActiveDirectoryFlavor.unicodePwd(Secret(bytes: [0xC3]))
        }
    }

    @Test("FILETIME ↔ Date", arguments: [
        ("116444736000000000", 0.0),                 // 1970-01-01
        ("134401344125590750", 1_795_660_812.559075),
    ])
    func filetime(raw: String, unix: Double) throws {
        let date = try #require(ActiveDirectoryEncoding.date(fromFiletime: raw))
        #expect(abs(date.timeIntervalSince1970 - unix) < 1e-6)
        #expect(abs(ActiveDirectoryEncoding.filetime(from: date) - Int64(raw)!) <= 10, "within 1 µs (Double)")
    }

    @Test("pwdLastSet values that are not times", arguments: ["0", "-1", "", "x", "9223372036854775807"])
    func filetimeNone(raw: String) {
        #expect(ActiveDirectoryEncoding.date(fromFiletime: raw) == nil)
    }

    @Test func policyHintsValueIsSequenceOfIntegerOne() {
        #expect(ActiveDirectoryEncoding.policyHintsValue == Data(base64Encoded: "MAMCAQE="))
    }

    @Test func inChainFilterEscapesTheDN() {
        #expect(ActiveDirectoryEncoding.inChainMemberFilter(userDN: "CN=a (b)*\\,OU=P")
                == "(member:1.2.840.113556.1.4.1941:=CN=a \\28b\\29\\2a\\5c,OU=P)")
    }

    @Test("diagnostic parsing", arguments: [
        ("0000052D: Constraint violation - check_password_restrictions: too short", "0000052D", nil),
        ("00002098: Object CN=x has no write property access", "00002098", nil),
        ("80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775, v1db1", "80090308", "775"),
        ("80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1", "80090308", "52e"),
        ("error in module acl: insufficient access rights", nil, nil),
        ("Constraint violation: 0000052D: Constraint violation - too short", "0000052D", nil),
        ("bind: Invalid credentials (80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775, v1db1)", "80090308", "775"),
        ("DSID-0C0903A9: not an error code", nil, nil),
    ] as [(String, String?, String?)])
    func diagnostics(message: String, ext: String?, data: String?) {
        #expect(ActiveDirectoryErrors.extendedError(message) == ext)
        #expect(ActiveDirectoryErrors.bindData(message)?.rawValue == data)
    }

    static let bindMsg = "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data "

    @Test("LDAP error → DirectoryError", arguments: [
        (LDAPError(code: 19, message: "0000052D: Constraint violation - too short"), ActiveDirectoryErrors.Context.write, "passwordRejected(directory_rule)"),
        (LDAPError(code: 19, message: "Constraint violation: 0000052D: Constraint violation - history"), .change, "passwordRejected(directory_rule)"),
        (LDAPError(code: 19, message: "00000056: Constraint violation - The old password specified doesn't match!"), .change, "wrongOldPassword"),
        (LDAPError(code: 50, message: "00002098: Object has no write property access"), .write, "permission"),
        (LDAPError(code: 50, message: "error in module acl: insufficient access rights"), .write, "permission"),
        (LDAPError(code: 53, message: "00000005: SecErr: DSID-031A12D2, problem 4003 (INSUFF_ACCESS_RIGHTS)"), .write, "permission"),
        (LDAPError(code: 53, message: "00002077: password modification needs an encrypted connection"), .write, "unavailable"),
        (LDAPError(code: 53, message: "0000001F: unwilling"), .write, "other(53)"),
        (LDAPError(code: 49, message: bindMsg + "52e, v1db1", phase: .bind), .userBind, "wrongOldPassword"),
        (LDAPError(code: 49, message: bindMsg + "775, v1db1", phase: .bind), .userBind, "wrongOldPassword"),
        (LDAPError(code: 49, message: bindMsg + "52e, v1db1", phase: .bind), .write, "bindFailed"),
        (LDAPError(code: -1, message: "Can't contact LDAP server", phase: .connect), .write, "unavailable"),
        (LDAPError(code: -1, message: "Can't contact LDAP server", phase: .bind), .userBind, "unavailable"),
        (LDAPError(code: -5, message: "Timed out"), .write, "timedOut"),
        (LDAPError(code: -5, message: "Timed out"), .read, "unavailable"),
        (LDAPError(code: 51, message: "busy"), .write, "transient"),
        (LDAPError(code: 12, message: "critical extension is unavailable"), .write, "other(12)"),
        (LDAPError(code: 32, message: "no such object"), .read, "other(32)"),
    ] as [(LDAPError, ActiveDirectoryErrors.Context, String)])
    func mapping(error: LDAPError, context: ActiveDirectoryErrors.Context, expected: String) {
        #expect(Self.kind(ActiveDirectoryErrors.map(error, context: context)) == expected)
    }

    static func kind(_ e: DirectoryError) -> String {
        switch e {
        case .unavailable: "unavailable"
        case .timedOut: "timedOut"
        case .permission: "permission"
        case .passwordRejected(let rule, _): "passwordRejected(\(rule.rawValue))"
        case .wrongOldPassword: "wrongOldPassword"
        case .notFound: "notFound"
        case .ambiguous: "ambiguous"
        case .transient: "transient"
        case .bindFailed: "bindFailed"
        case .other(let code, _): "other(\(code))"
        }
    }
}
