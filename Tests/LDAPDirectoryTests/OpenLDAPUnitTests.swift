import Foundation
import Testing
import WritebackCore
@testable import LDAPDirectory

/// Pure pieces of the LDAP layer: RFC 4515 escaping, the identity filter, the ppolicy
/// response control, password files, generalized time.
@Suite("OpenLDAP units")
struct OpenLDAPUnitTests {
    @Test("RFC 4515 escaping", arguments: [
        ("alice", "alice"),
        ("*", "\\2a"),
        ("*)(uid=*", "\\2a\\29\\28uid=\\2a"),
        ("(uid=alice)", "\\28uid=alice\\29"),
        ("a\\b", "a\\5cb"),
        ("\\2a", "\\5c2a"),
        ("nul\u{0}byte", "nul\\00byte"),
        ("\u{0}", "\\00"),
        ("ålice", "ålice"),
        ("алиса", "алиса"),
        ("alice)(|(objectClass=*)", "alice\\29\\28|\\28objectClass=\\2a\\29"),
        ("", ""),
        ("a=b,c", "a=b,c"),
    ])
    func escaping(input: String, expected: String) {
        #expect(LDAPFilter.escape(input) == expected)
    }

    @Test("OpenLDAP answers mapped: rc 20 on a write is a concurrent write (transient), on a read it is not")
    func errorMapping() {
        let raced = LDAPError(code: LDAPCode.attributeOrValueExists, message: "modify/add: pwdHistory: value #0 already exists")
        let write = OpenLDAPFlavor.map(raced, write: true)
        #expect(write.isTransient && write.description.contains("rc 20"))
        #expect(!OpenLDAPFlavor.map(raced, write: false).isTransient)
        #expect(OpenLDAPFlavor.map(LDAPError(code: LDAPCode.insufficientAccess, message: "no"), write: true) == .permission("no"))
        #expect(OpenLDAPFlavor.map(LDAPError(code: LDAPCode.busy, message: "busy"), write: true).isTransient)
    }

    @Test("escaped values never contain a raw filter metacharacter",
          arguments: ["*)(uid=*", "))))((((", "\\\\\\", "\u{0}\u{0}*", "x*y(z)w\\v\u{0}"])
    func noMetacharacters(hostile: String) {
        let out = LDAPFilter.escape(hostile)
        #expect(!out.contains("*") && !out.contains("(") && !out.contains(")") && !out.unicodeScalars.contains("\u{0}"))
        // Every backslash starts a two-hex-digit escape.
        let scalars = Array(out.unicodeScalars)
        for (i, s) in scalars.enumerated() where s == "\\" {
            #expect(i + 2 < scalars.count + 1 && scalars[i + 1].properties.isASCIIHexDigit && scalars[i + 2].properties.isASCIIHexDigit)
        }
    }

    @Test("identity filter: (&<user_filter>(|(attr1=<id>)(attr2=<id>)))")
    func identityFilter() {
        #expect(LDAPFilter.identity(userFilter: "(objectClass=inetOrgPerson)", attributes: ["uid", "mail"], identity: "a*")
                == "(&(objectClass=inetOrgPerson)(|(uid=a\\2a)(mail=a\\2a)))")
        #expect(LDAPFilter.identity(userFilter: "objectClass=person", attributes: ["uid"], identity: "bob")
                == "(&(objectClass=person)(|(uid=bob)))")
    }

    @Test("ppolicy response control: error codes and rules", arguments: [
        ("MAOBAQY=", 6, PasswordRule.tooShort),
        ("MAOBAQg=", 8, PasswordRule.history),
        ("MAOBAQU=", 5, PasswordRule.complexity),
        ("MAOBAQc=", 7, PasswordRule.tooYoung),
    ])
    func ppolicyControl(b64: String, code: Int, rule: PasswordRule) {
        let value = Data(base64Encoded: b64)!
        #expect(PasswordPolicyControl.error(in: value) == code)
        #expect(PasswordPolicyControl.rule(forError: code) == rule)
    }

    @Test("ppolicy response control: warning only, locked, malformed")
    func ppolicyOther() {
        // warning timeBeforeExpiration 100, no error
        #expect(PasswordPolicyControl.error(in: Data([0x30, 0x05, 0xA0, 0x03, 0x80, 0x01, 0x64])) == nil)
        // warning then error accountLocked (1)
        #expect(PasswordPolicyControl.error(in: Data([0x30, 0x08, 0xA0, 0x03, 0x80, 0x01, 0x64, 0x81, 0x01, 0x01])) == 1)
        #expect(PasswordPolicyControl.rule(forError: 1) == nil)
        #expect(PasswordPolicyControl.error(in: Data()) == nil)
        #expect(PasswordPolicyControl.error(in: Data([0x30, 0x7F, 0x81])) == nil)
        #expect(PasswordPolicyControl.error(in: Data([0x04, 0x03, 0x81, 0x01, 0x06])) == nil)
    }

    @Test("password files lose exactly one trailing newline", arguments: [
        ("secret\n", "secret"), ("secret\r\n", "secret"), ("secret\n\n", "secret\n"), ("secret", "secret"),
        (" sp ace \n", " sp ace "), ("secret\r", "secret\r"),
    ])
    func passwordFile(content: String, expected: String) throws {
        let path = NSTemporaryDirectory() + "/pw-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let s = try LDAPDirectoryService.readPasswordFile(path)
        #expect(s.unsafeString() == expected)
    }

    @Test("loopback detection")
    func loopback() {
        #expect(LDAPDirectoryService.isLoopback("ldap://127.0.0.1:3890"))
        #expect(LDAPDirectoryService.isLoopback("ldap://localhost"))
        #expect(LDAPDirectoryService.isLoopback("ldap://[::1]:389"))
        #expect(!LDAPDirectoryService.isLoopback("ldap://10.0.0.1"))
        #expect(!LDAPDirectoryService.isLoopback("ldap://127.example.org"))
    }

    @Test("generalized time")
    func generalizedTime() {
        #expect(GeneralizedTime.parse("20261126023919Z") == Date(timeIntervalSince1970: 1_795_660_759))
        #expect(GeneralizedTime.parse("20261126023919.954059Z") == Date(timeIntervalSince1970: 1_795_660_759))
        #expect(GeneralizedTime.parse("garbage") == nil)
    }
}
