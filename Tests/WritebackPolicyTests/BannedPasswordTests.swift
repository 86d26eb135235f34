import Foundation
import Testing
@testable import WritebackPolicy

/// Entra's banned-password algorithm: normalisation, edit distance 1, scoring.
@Suite struct BannedPasswordTests {
    static let contosoBlank = BannedPasswordList(terms: ["contoso", "blank"], includeGlobal: false)
    static let contosoWinter = BannedPasswordList(terms: ["contoso", "winter"], includeGlobal: false)
    static let abcdef = BannedPasswordList(terms: ["abcdef"], includeGlobal: false)

    /// (list, password, terms found, points, banned)
    static let scores: [(String, String, Int, Int, Bool)] = [
        // prior-art.md §2 and DESIGN.md examples
        ("contoso,blank", "contosoblank12", 2, 4, true),
        ("contoso,blank", "contosoblankf9!", 2, 5, false),
        ("contoso,blank", "ContoS0Bl@nK12", 2, 4, true),
        ("contoso,winter", "C0ntos0Winter1", 2, 3, true),
        ("contoso,winter", "contosowinter2024", 2, 6, false),
        ("contoso,winter", "Winter2024", 1, 5, false),
        ("contoso,winter", "Winter24", 1, 3, true),
        // Edit distance 1 (Entra's own example: abcdef matches abcdeg, abcdefg, abcde)
        ("abcdef", "abcdeg", 1, 1, true),
        ("abcdef", "abcdefg", 1, 2, true),
        ("abcdef", "abcde", 1, 1, true),
        ("abcdef", "abXdef", 1, 1, true),
        ("abcdef", "abcXdef", 1, 1, true),
        ("abcdef", "acdef", 1, 1, true),
        ("abcdef", "bcdef", 1, 1, true),
        ("abcdef", "XbcdeX", 0, 6, false),
        ("abcdef", "abXdXf", 0, 6, false),
        ("abcdef", "badcfe", 0, 6, false),
        ("contoso,blank", "cXntXso", 0, 7, false),
        ("contoso,blank", "contXoso99", 1, 3, true),
        // Substitutions 0→o 1→l $→s @→a 3→e 5→s 7→t
        ("summer", "$umm3r!!", 1, 3, true),
        ("summer", "5umm3r!!", 1, 3, true),
        ("test", "7e57", 1, 1, true),
        ("hello", "h3ll0", 1, 1, true),
        ("hello", "HELLO", 1, 1, true),
        ("cool", "c00l", 1, 1, true),
        ("ball", "b@11", 1, 1, true),
        // Terms are normalised too
        ("C0nt0s0", "contoso!!", 1, 3, true),
        ("P@$$", "pass!!", 1, 3, true),
        // Occurrences
        ("contoso", "contosocontoso", 2, 2, true),
        ("contoso", "contoso contoso contoso", 3, 5, false),
        ("contoso", "CONTOSO12", 1, 3, true),
        ("contoso", "CONTOSO123", 1, 4, true),
        ("contoso", "CONTOSO1234", 1, 5, false),
        // Short terms are ignored; no term found means not this rule's business
        ("abc", "abcabc", 0, 6, false),
        ("contoso", "xyz", 0, 3, false),
        ("contoso", "", 0, 0, false),
        ("contoso", "x", 0, 1, false),
        // Unicode
        ("密码密码", "密码密码12", 1, 3, true),
        ("straße", "STRASSE", 0, 7, false),
        ("straße", "Straße1", 1, 2, true),
        ("Ölfeld", "ölfeld2024", 1, 5, false),
        ("contoso", "cöntoso!", 1, 2, true),
    ]

    @Test(arguments: scores.indices)
    func score(index: Int) {
        let (terms, password, found, points, banned) = Self.scores[index]
        let list = BannedPasswordList(terms: terms.split(separator: ",").map(String.init), includeGlobal: false)
        let s = list.score(password)
        #expect(s.termsFound == found, "\(password)")
        #expect(s.points == points, "\(password)")
        #expect(s.isBanned == banned, "\(password)")
        #expect(list.isBanned(password) == banned, "\(password)")
    }

    @Test(arguments: [
        ("P@ssw0rd", true), ("Password1", true), ("password", true), ("Qwerty123", true), ("Welcome1!", true),
        ("Summer2024", false), ("Summer24", true), ("iloveyou", true), ("letmein!", true), ("Changeme1", true),
        ("Tr0ub4dor&3x", false), ("correct-horse-battery", false), ("Zq7%Lm2#", false), ("woaini1314", true),
    ])
    func globalList(password: String, banned: Bool) {
        #expect(BannedPasswordList(terms: []).isBanned(password) == banned, "\(password)")
    }

    @Test(arguments: [
        ("abcdef", "abcdef", true), ("abcdef", "abcdeg", true), ("abcdef", "abcdefg", true), ("abcdef", "abcde", true),
        ("abcdef", "xabcdef", true), ("abcdef", "bcdef", true), ("abcdef", "abdcef", false), ("abcdef", "abcdefgh", false),
        ("abcdef", "abcd", false), ("", "a", true), ("", "", true), ("a", "b", true), ("ab", "ba", false),
    ])
    func editDistance(a: String, b: String, within: Bool) {
        let x = Array(a.unicodeScalars)[...], y = Array(b.unicodeScalars)[...]
        #expect(BannedPasswordList.withinOneEdit(x, y) == within)
        #expect(BannedPasswordList.withinOneEdit(y, x) == within)
    }

    @Test func longPasswordsAreNotScored() {
        let pw = "contoso" + String(repeating: "x", count: 100)
        #expect(!Self.contosoBlank.isBanned(pw))
        #expect(!Self.contosoBlank.isBanned(String(repeating: "contoso", count: 2000)))
    }

    @Test func manyTermsStillFound() {
        // Letters only, so normalisation cannot merge two terms.
        var terms = (0..<5000).map { i in "term" + String(String(i, radix: 26).unicodeScalars.map { s in
            Character(Unicode.Scalar(s.value < 0x3A ? s.value - 0x30 + 0x61 : s.value - 0x61 + 0x6B)!) }) + "zz" }
        terms.insert("fabrikam", at: 2500)
        let list = BannedPasswordList(terms: terms)
        #expect(list.isBanned("Fabr1kam!"))
        #expect(!list.isBanned("Zq7%Lm2#Kp"))
        #expect(list.normalized.count > 5000)
    }

    @Test func loadsFile() throws {
        let dir = try TempDir()
        let path = dir.path + "/banned.txt"
        try "# company terms\r\ncontoso\r\n\r\n  fabrikam  \nabc\n".write(toFile: path, atomically: true, encoding: .utf8)
        let list = try BannedPasswordList(contentsOfFile: path, includeGlobal: false)
        #expect(list.terms.count == 3)
        #expect(list.normalized.count == 2)
        #expect(list.isBanned("Fabrikam1!"))
        #expect(list.isBanned("contoso!!"))
        #expect(throws: BannedPasswordList.LoadError.self) { try BannedPasswordList(contentsOfFile: dir.path + "/missing") }
    }
}
