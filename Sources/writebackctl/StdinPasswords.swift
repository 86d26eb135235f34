import Foundation
import WritebackCore

/// Reads passwords from standard input for `enqueue --password-stdin` (never from an
/// argument). One password: all of stdin minus exactly one trailing `\n` or `\r\n`. Two
/// passwords (`--kind change`): the first line is the old password, the rest (minus one
/// trailing newline) the new one.
enum StdinPasswords {
    enum ReadError: Error, CustomStringConvertible {
        case empty
        case missingSecondLine
        var description: String {
            switch self {
            case .empty: "no password on standard input"
            case .missingSecondLine: "--kind change reads two lines on standard input: the old password, then the new one"
            }
        }
    }

    static func readAll() -> [UInt8] {
        [UInt8](FileHandle.standardInput.readDataToEndOfFile())
    }

    static func dropOneNewline(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var b = bytes
        if b.last == 0x0A {
            b = b.dropLast()
            if b.last == 0x0D { b = b.dropLast() }
        }
        return b
    }

    static func one() throws -> Secret {
        var input = readAll()
        defer { for i in input.indices { input[i] = 0 } }
        let password = dropOneNewline(input[...])
        guard !password.isEmpty else { throw ReadError.empty }
        return Secret(bytes: password)
    }

    /// (old, new)
    static func two() throws -> (Secret, Secret) {
        var input = readAll()
        defer { for i in input.indices { input[i] = 0 } }
        guard let nl = input.firstIndex(of: 0x0A) else { throw ReadError.missingSecondLine }
        var old = input[..<nl]
        if old.last == 0x0D { old = old.dropLast() }
        let new = dropOneNewline(input[(nl + 1)...])
        guard !old.isEmpty, !new.isEmpty else { throw ReadError.missingSecondLine }
        return (Secret(bytes: old), Secret(bytes: new))
    }
}
