import Testing
@testable import WritebackConfig

/// `make fuzz` (config target) found that TOMLKit's toml++ asserts, and so aborts the daemon,
/// on a table name or dotted key that starts with a character no key can start with. Those
/// lines must be refused as syntax errors with their line and column; valid TOML must pass.
@Suite("TOML key precheck (fuzz finding)")
struct TOMLKeyPrecheckTests {
    @Test("the fuzzer's crash input and its variants are refused, not aborted on", arguments: [
        ("[/irectory.uri = ", 1, 2),               // the crash inputs, as found
        ("[\nuri =directory\nuri = ", 1, 2),
        ("a.\nb = 1", 1, 3),
        ("[directory]\nuri = 1\n[/queue]", 3, 2),
        ("[[/directory]]", 1, 3),
        ("[ %x ]", 1, 3),
        ("[a./b]", 1, 4),
        ("[a. /b]", 1, 5),
        ("a./b = 1", 1, 3),
        ("[queue]\nretention_days = 1979-05-27T-07:32:00Z\n", 2, 28),   // third crash input
        ("x = [\n  1979-05-27tx,\n]", 2, 13),
        ("x = {a = 2001-01-01T}", 1, 20),
        ("  [directory.\u{e9}]", 1, 14),
        ("uri = [\"ldaps://a\",} \"ldaps://b\"]", 1, 20),    // fourth crash input (CI's short run), reduced
        ("x = [}]", 1, 6),
        ("x = [\n}]", 2, 1),
        ("x = [ # c\n}]", 2, 1),
        ("x = [[}]]", 1, 7),
        ("x = {a = [}]}", 1, 11),
        ("x = [\n  1,\n  }\n]", 3, 3),
        ("[a]\nx = [\t}]", 2, 7),
        ("x = {a = 1,}", 1, 12),
    ])
    func refused(text: String, line: Int, column: Int) throws {
        let problem = try #require(TOMLKeyPrecheck.firstProblem(in: text))
        #expect(problem.line == line && problem.column == column, "\(problem)")
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(toml: text, path: "t.toml", groupExists: { _ in true }) }
    }

    @Test("valid TOML passes: quoted and dotted names, arrays over lines, multi-line strings, comments", arguments: [
        "[directory]\nuri = [\"ldaps://a\"]",
        "[\"quoted name\".x]\n['lit'.y]",
        "[[directory]]\nname = \"a\"",
        "a.b.c = 1\n\"k\".'j' = 2",
        "x = [\n  [+1, 2],\n  [{a = 1}],\n  [-1],\n]\n[ok]",
        "s = \"\"\"\n[/not a header]\n\"\"\"\n[ok]",
        "t = '''\n[/also not]\n'''",
        "# [/comment]\n  # a./b",
        "x = \"[/in a string]\" # [/in a comment]",
        "d = 1979-05-27T07:32:00Z\ne = 1979-05-27 07:32:00\nf = 1979-05-27 # T\ng = \"2001-01-01T\"",
        // `[` or `,` before `}` inside strings and comments is no problem:
        "a = \"[}\"\nb = '[,}'\nc = \"\"\"\n[\n}\"\"\"\nd = '''[}'''\ne = [ # [}\n  {x = 1}, {y = \"\\\"}\"},\n]\nf = {}\ng = [{}]",
    ])
    func passes(text: String) {
        #expect(TOMLKeyPrecheck.firstProblem(in: text) == nil)
    }
}
