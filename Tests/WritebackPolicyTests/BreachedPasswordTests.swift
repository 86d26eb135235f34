import Foundation
import Testing
import WritebackCore
@testable import WritebackPolicy

/// Binary search over a generated HIBP-format file: every line, the edges, absent keys,
/// counts, line-ending and case variants.
@Suite struct BreachedPasswordTests {
    /// `count` random sorted hashes, plus the hashes of `passwords`, with counts `i + 1`.
    static func makeFile(in dir: TempDir, name: String = "breached.txt", count: Int = 500, passwords: [String] = [],
                         lineEnding: String = "\n", counts: Bool = true, lowercase: Bool = false, trailingNewline: Bool = true) throws -> (String, [String]) {
        var rng = SystemRandomNumberGenerator()
        var hashes = Set<String>()
        while hashes.count < count { hashes.insert(randomHex(&rng)) }
        for p in passwords { hashes.insert(String(decoding: BreachedPasswordList.sha1Hex(Array(p.utf8)), as: UTF8.self)) }
        let sorted = hashes.sorted()
        var lines = sorted.enumerated().map { i, h in (lowercase ? h.lowercased() : h) + (counts ? ":\(i + 1)" : "") }
            .joined(separator: lineEnding)
        if trailingNewline { lines += lineEnding }
        let path = dir.path + "/" + name
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, sorted)
    }

    static let hexDigits = Array("0123456789ABCDEF".utf8)
    static func randomHex(_ rng: inout SystemRandomNumberGenerator) -> String {
        var a = rng.next(), b = rng.next(), c = rng.next()
        var out = [UInt8](repeating: 0, count: 40)
        for i in 0..<16 { out[i] = hexDigits[Int(a & 0xF)]; a >>= 4 }
        for i in 16..<32 { out[i] = hexDigits[Int(b & 0xF)]; b >>= 4 }
        for i in 32..<40 { out[i] = hexDigits[Int(c & 0xF)]; c >>= 4 }
        return String(decoding: out, as: UTF8.self)
    }

    /// `h` with its last digit changed.
    static func neighbour(_ h: String) -> String {
        var bytes = Array(h.utf8)
        bytes[39] = bytes[39] == 0x30 ? 0x31 : 0x30
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func everyLineFirstAndLast() throws {
        let dir = try TempDir()
        let (path, sorted) = try Self.makeFile(in: dir, count: 1000)
        let list = try BreachedPasswordList(path: path)
        #expect(sorted.enumerated().filter { i, h in list.occurrences(sha1Hex: h) != i + 1 }.isEmpty)
        #expect(list.occurrences(sha1Hex: sorted.first!) == 1)
        #expect(list.occurrences(sha1Hex: sorted.last!) == sorted.count)
        #expect(list.occurrences(sha1Hex: sorted.first!.lowercased()) == 1)
    }

    /// Big enough for interpolation to run; half the hashes crowd under `0000…`, so the
    /// interpolation estimates are poor and bisection has to finish the job.
    @Test(arguments: [true, false])
    func largeAndSkewed(releasePages: Bool) throws {
        let dir = try TempDir()
        var rng = SystemRandomNumberGenerator()
        var hashes = Set<String>()
        while hashes.count < 3_000 {
            let h = Self.randomHex(&rng)
            hashes.insert(hashes.count % 2 == 0 ? "0000" + h.dropFirst(4) : h)
        }
        let sorted = hashes.sorted()
        let path = dir.path + "/big.txt"
        try sorted.map { $0 + ":7" }.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let list = try BreachedPasswordList(path: path, releasePages: releasePages)
        // One #expect per check would cost more than the lookups: collect, then expect once.
        var wrong: [String] = []
        for h in sorted.enumerated().filter({ $0.offset % 3 == 0 || $0.offset == sorted.count - 1 }).map(\.element) {
            if list.occurrences(sha1Hex: h) != 7 { wrong.append(h) }
            let neighbour = Self.neighbour(h)
            if (list.occurrences(sha1Hex: neighbour) != nil) != hashes.contains(neighbour) { wrong.append(neighbour) }
        }
        #expect(wrong.isEmpty)
    }

    /// Lookups from several threads at once, while each drops its pages from the mapping.
    @Test func concurrentLookups() async throws {
        let dir = try TempDir()
        let (path, sorted) = try Self.makeFile(in: dir, count: 2000)
        let list = try BreachedPasswordList(path: path)
        let present = Set(sorted)
        let failures = await withTaskGroup(of: Int.self) { group in
            for t in 0..<4 {
                group.addTask {
                    var wrong = 0
                    for (i, h) in sorted.enumerated() where i % 4 == t {
                        if list.occurrences(sha1Hex: h) != i + 1 { wrong += 1 }
                        if (list.occurrences(sha1Hex: Self.neighbour(h)) != nil) != present.contains(Self.neighbour(h)) { wrong += 1 }
                    }
                    return wrong
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    @Test func absentKeys() throws {
        let dir = try TempDir()
        let (path, sorted) = try Self.makeFile(in: dir, count: 300)
        let list = try BreachedPasswordList(path: path)
        #expect(list.occurrences(sha1Hex: String(repeating: "0", count: 40)) == nil || sorted.first == String(repeating: "0", count: 40))
        #expect(list.occurrences(sha1Hex: String(repeating: "F", count: 40)) == nil || sorted.last == String(repeating: "F", count: 40))
        // Neighbours of every present key (last digit changed) are absent unless present themselves.
        let present = Set(sorted)
        let wrong = sorted.filter { h in
            let neighbour = Self.neighbour(h)
            return (list.occurrences(sha1Hex: neighbour) != nil) != present.contains(neighbour)
        }
        #expect(wrong.isEmpty)
        #expect(list.occurrences(sha1Hex: "ABC") == nil)
        #expect(list.occurrences(sha1Hex: String(sorted[0].prefix(39))) == nil)
        #expect(list.occurrences(sha1Hex: sorted[0] + "0") == nil)
    }

    @Test(arguments: [
        ("\n", true, false, true), ("\r\n", true, false, true), ("\n", false, false, true), ("\n", true, true, true),
        ("\n", true, false, false), ("\r\n", false, true, false),
    ])
    func formats(lineEnding: String, counts: Bool, lowercase: Bool, trailingNewline: Bool) throws {
        let dir = try TempDir()
        let (path, sorted) = try Self.makeFile(in: dir, count: 200, passwords: ["Password1!"], lineEnding: lineEnding,
                                               counts: counts, lowercase: lowercase, trailingNewline: trailingNewline)
        let list = try BreachedPasswordList(path: path)
        #expect(sorted.enumerated().filter { i, h in list.occurrences(sha1Hex: h) != (counts ? i + 1 : 1) }.isEmpty)
        #expect(list.contains(password: "Password1!"))
        #expect(list.contains(password: Secret("Password1!")))
        #expect(!list.contains(password: "Zq7%Lm2#Kp-not-there"))
    }

    @Test func edgesAndSmallFiles() throws {
        let dir = try TempDir()
        let empty = dir.path + "/empty"
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        #expect(try BreachedPasswordList(path: empty).occurrences(sha1Hex: String(repeating: "A", count: 40)) == nil)
        let one = dir.path + "/one"
        let h = String(decoding: BreachedPasswordList.sha1Hex(Array("hunter2".utf8)), as: UTF8.self)
        #expect(h == "F3BBBD66A63D4BF1747940578EC3D0103530E21D")
        try "\(h):12345678901\n".write(toFile: one, atomically: true, encoding: .utf8)
        let list = try BreachedPasswordList(path: one)
        #expect(list.occurrences(sha1Hex: h) == 12_345_678_901)
        #expect(list.contains(password: "hunter2"))
        #expect(!list.contains(password: "hunter3"))
        #expect(throws: BreachedPasswordList.LoadError.self) { try BreachedPasswordList(path: dir.path + "/missing") }
    }

    @Test func engineReportsBreached() throws {
        let dir = try TempDir()
        let (path, _) = try Self.makeFile(in: dir, count: 100, passwords: ["Zq7%Lm2#Kp"])
        let engine = PolicyEngine(policy: Fixture.policy(), licenses: .init(), banned: .init(terms: [], includeGlobal: false),
                                  breached: try BreachedPasswordList(path: path))
        #expect(engine.passwordViolations("Zq7%Lm2#Kp", user: Fixture.user(), inHistory: false, now: Fixture.now) == [.breached])
        #expect(engine.passwordViolations("Zq7%Lm2#Kq", user: Fixture.user(), inHistory: false, now: Fixture.now) == [])
    }
}
