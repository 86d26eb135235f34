import Testing
import WritebackCore
@testable import WritebackConfig
#if canImport(Glibc)
import Glibc
#endif

@Suite("SecretFile")
struct SecretFileTests {
    /// Writes `bytes` to a fresh file in a private temp dir; the test removes it.
    func withFile<R>(_ bytes: [UInt8], _ body: (String) throws -> R) throws -> R {
        var template = Array("/tmp/wb-secret-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        let path = dir + "/secret"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(path); rmdir(dir) }
        return try body(path)
    }

    static func random(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0x21...0x7e) } }

    /// (suffix written after the password, bytes expected after the password)
    static let endings: [([UInt8], [UInt8])] = [
        ([], []),
        ([0x0a], []),
        ([0x0d, 0x0a], []),
        ([0x0a, 0x0a], [0x0a]),
        ([0x0d], [0x0d]),
        ([0x20], [0x20]),
        ([0x0d, 0x0a, 0x0d, 0x0a], [0x0d, 0x0a]),
        ([0x09, 0x0a], [0x09]),
    ]

    @Test("exactly one trailing newline is dropped", arguments: endings.indices)
    func trailingNewline(_ i: Int) throws {
        let password = Self.random(16)
        let (suffix, kept) = Self.endings[i]
        let secret = try withFile(password + suffix) { try SecretFile.read(path: $0) }
        #expect(secret.withBytes { Array($0) } == password + kept)
        #expect("\(secret)" == "<redacted>")
    }

    @Test("leading spaces and inner newlines are part of the secret")
    func innerBytes() throws {
        let password = [0x20] + Self.random(8) + [0x0a] + Self.random(4)
        let secret = try withFile(password + [0x0a]) { try SecretFile.read(path: $0) }
        #expect(secret.withBytes { Array($0) } == password)
    }

    @Test("empty files, missing files and huge files are refused without content")
    func refusals() throws {
        #expect(throws: SecretFileError.self) { try withFile([]) { try SecretFile.read(path: $0) } }
        #expect(throws: SecretFileError.self) { try withFile([0x0a]) { try SecretFile.read(path: $0) } }
        #expect(throws: SecretFileError.self) { try withFile([0x0d, 0x0a]) { try SecretFile.read(path: $0) } }
        let big = Self.random(SecretFile.maxBytes + 1)
        let e = try #require(throws: SecretFileError.self) { try withFile(big) { try SecretFile.read(path: $0) } }
        guard case .tooLarge = e else { Issue.record("\(e)"); return }
        #expect(throws: SecretFileError.unreadable(path: "/nonexistent/pw", reason: "No such file or directory")) {
            try SecretFile.read(path: "/nonexistent/pw")
        }
    }
}
