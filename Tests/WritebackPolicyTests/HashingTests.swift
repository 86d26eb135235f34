import Foundation
import Testing
import WritebackCore
@testable import WritebackPolicy

/// scrypt history hashes and OpenLDAP's salted SHA schemes, against vectors computed by
/// Python's hashlib and by slappasswd.
@Suite struct HashingTests {
    static let fast = PasswordHistoryHasher(logN: 10)
    static let salt = Data(0..<16)

    @Test func scryptMatchesHashlib() throws {
        // hashlib.scrypt(b"correct horse", salt=bytes(range(16)), n=1024, r=8, p=1, dklen=32)
        let key = try Self.fast.derive(password: Secret("correct horse"), salt: Self.salt)
        #expect(key.map { String(format: "%02x", $0) }.joined() == "9df923deed5f4531c279af9f56bd37b1657bef4929e702ce2e811a93388a86a1")
    }

    @Test func productionParameters() throws {
        let hasher = PasswordHistoryHasher()
        #expect(hasher.logN == 15 && hasher.blockSize == 8 && hasher.parallelism == 1 && hasher.outputByteCount == 32)
        // The full-cost vector takes ≈ 0.1 s in release but over a second in debug builds.
        #if !DEBUG
        // hashlib.scrypt(..., n=2**15, r=8, p=1, dklen=32)
        let key = try hasher.derive(password: Secret("correct horse"), salt: Self.salt)
        #expect(key.map { String(format: "%02x", $0) }.joined() == "5c662628ac4eb1068a287e2aa2a202ae248e98db04d61d3327e7342db6ec7097")
        #endif
    }

    @Test func historyRecord() throws {
        let salt = PasswordHistoryHasher.makeSalt()
        #expect(salt.count == 16)
        #expect(salt != PasswordHistoryHasher.makeSalt())
        let old = try (1...3).map { try Self.fast.derive(password: Secret("Old-password-\($0)"), salt: salt) }
        let record = PasswordHistoryRecord(salt: salt, hashes: old.reversed())
        #expect(try Self.fast.isInHistory(password: Secret("Old-password-2"), record: record))
        #expect(try !Self.fast.isInHistory(password: Secret("Old-password-4"), record: record))
        #expect(try !Self.fast.isInHistory(password: Secret("Old-password-2"), record: nil))
        #expect(try !Self.fast.isInHistory(password: Secret("x"), record: PasswordHistoryRecord(salt: salt, hashes: [])))
        let (s2, h2) = try Self.fast.entry(for: Secret("New-1"), existing: record)
        #expect(s2 == salt && h2.count == 32)
        let (s3, _) = try Self.fast.entry(for: Secret("New-1"), existing: nil)
        #expect(s3.count == 16 && s3 != salt)
        #expect(throws: PasswordHistoryHasher.HashError.badSaltLength(4)) { try Self.fast.derive(password: Secret("x"), salt: Data([1, 2, 3, 4])) }
    }

    static let ldapPassword = "Sécret pass 1"
    @Test(arguments: [
        ("{SSHA}j9JADqDLBEXqwgnu6LQGf4VneXverb7vAQIDBA==", true),
        ("{ssha}j9JADqDLBEXqwgnu6LQGf4VneXverb7vAQIDBA==", true),
        ("{SSHA256}g25MeoIlFUlEpgNalL45kWrEuRpX9UdyRaBDO5+8nOverb7vAQIDBA==", true),
        ("{SSHA512}9xuNpdhw0ZgzadMcENrv8cbd8Su1Je7uMgiFEmi8OdGSIyJ2zLNbeZU0h41gNDo4SFIr1sJL5ni62eRkUn21Md6tvu8BAgME", true),
        ("{SSHA}j9JADqDLBEXqwgnu6LQGf4VneXverb7vAQIDBQ==", false), // salt changed
        ("{SSHA256}j9JADqDLBEXqwgnu6LQGf4VneXverb7vAQIDBA==", false), // wrong scheme for the length
        ("{SSHA}", false), ("{SSHA}!!!notbase64", false), ("{CRYPT}$6$abc$def", false), ("plain", false), ("", false),
        ("{SSHA}j9JADqDLBEXqwgnu6LQGf4VneXs=", false), // digest only, no salt
    ])
    func ldapHashes(stored: String, matches: Bool) {
        #expect(LDAPPasswordHash.matches(password: Secret(Self.ldapPassword), stored: stored) == matches)
        #expect(!LDAPPasswordHash.matches(password: Secret("sécret pass 1"), stored: stored))
    }

    @Test func slappasswdVector() {
        // slappasswd -s 'Wb-test-9x' -h '{SSHA}'
        #expect(LDAPPasswordHash.matches(password: Secret("Wb-test-9x"), stored: "{SSHA}AdPHlmpivlfhtyVChqA6dNd+rLMBCwse"))
        #expect(!LDAPPasswordHash.matches(password: Secret("Wb-test-9X"), stored: "{SSHA}AdPHlmpivlfhtyVChqA6dNd+rLMBCwse"))
        #expect(LDAPPasswordHash.matches(password: Secret("secret"), stored: "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="))
    }

    @Test(arguments: LDAPPasswordHash.Scheme.allCases)
    func roundTrip(scheme: LDAPPasswordHash.Scheme) {
        let stored = LDAPPasswordHash.hash(password: Secret("Round-trip-1"), salt: [9, 8, 7, 6, 5, 4, 3, 2], scheme: scheme)
        #expect(stored.hasPrefix("{\(scheme.rawValue)}"))
        #expect(LDAPPasswordHash.matches(password: Secret("Round-trip-1"), stored: stored))
        #expect(!LDAPPasswordHash.matches(password: Secret("Round-trip-2"), stored: stored))
    }

    @Test func pwdHistoryValues() {
        let v = "20250101120000Z#1.3.6.1.4.1.1466.115.121.1.40#38#{SSHA}AdPHlmpivlfhtyVChqA6dNd+rLMBCwse"
        let e = PasswordHistoryEntry(v)
        #expect(e?.time == "20250101120000Z")
        #expect(e?.syntaxOID == "1.3.6.1.4.1.1466.115.121.1.40")
        #expect(e?.length == 38)
        #expect(e?.value == "{SSHA}AdPHlmpivlfhtyVChqA6dNd+rLMBCwse")
        #expect(PasswordHistoryEntry("a#b#c#d") == nil)
        #expect(PasswordHistoryEntry("a#b#3") == nil)
        #expect(PasswordHistoryEntry("t#o#5#va#lue")?.value == "va#lue")
        let other = "20240101120000Z#1.3.6.1.4.1.1466.115.121.1.40#38#" + LDAPPasswordHash.hash(password: Secret("Other-1"), salt: [1, 2, 3, 4])
        #expect(PasswordHistoryEntry.contains(Secret("Wb-test-9x"), in: [other, v, "garbage"]))
        #expect(!PasswordHistoryEntry.contains(Secret("Wb-test-9y"), in: [other, v]))
        #expect(!PasswordHistoryEntry.contains(Secret("Wb-test-9x"), in: []))
    }

    @Test func constantTimeEquals() {
        #expect(LDAPPasswordHash.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!LDAPPasswordHash.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!LDAPPasswordHash.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(LDAPPasswordHash.constantTimeEquals([UInt8](), Data()))
    }
}
