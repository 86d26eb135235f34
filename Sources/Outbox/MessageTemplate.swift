import Foundation

/// A confirmation template: a `Subject:` line, a blank line, and the body, with a small subset
/// of Mustache that organisations already know: `{{name}}` inserts a value,
/// `{{#flag}}…{{/flag}}` keeps its text when the flag is true, `{{^flag}}…{{/flag}}` when it is
/// false. A section tag alone on its line takes the line with it, so conditional paragraphs
/// leave no blank lines behind. Names are checked when the template is loaded: a typo in an
/// override is an error at start, not a message with a hole in it. There is no way to insert a
/// password: no value holds one.
struct MessageTemplate: Sendable, Hashable {
    /// Values the templates may insert.
    static let valueNames: Set<String> = ["organization", "account", "display_name", "time", "admin",
                                          "request_id", "user_mail"]
    /// Flags the templates may test.
    static let flagNames: Set<String> = ["unlocked", "must_change", "by_admin", "has_mail"]

    indirect enum Node: Sendable, Hashable {
        case text(String)
        case value(String)
        case section(String, inverted: Bool, [Node])
    }

    let subject: [Node]
    let body: [Node]

    init(parsing source: String, file: String) throws(OutboxError) {
        let text = source.replacingOccurrences(of: "\r\n", with: "\n")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first, first.hasPrefix("Subject:") else {
            throw .template(file: file, reason: "the first line must be \"Subject: …\"")
        }
        lines.removeFirst()
        if lines.first?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeFirst() }
        let subjectSource = String(first.dropFirst("Subject:".count)).trimmingCharacters(in: .whitespaces)
        subject = try MessageTemplate.parse(subjectSource, file: file)
        body = try MessageTemplate.parse(lines.joined(separator: "\n"), file: file)
    }

    func render(values: [String: String], flags: [String: Bool]) -> (subject: String, body: String) {
        let subjectText = MessageTemplate.render(subject, values, flags)
            .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return (subjectText, MessageTemplate.render(body, values, flags))
    }

    private static func render(_ nodes: [Node], _ values: [String: String], _ flags: [String: Bool]) -> String {
        var out = ""
        for node in nodes {
            switch node {
            case .text(let text): out += text
            case .value(let name): out += values[name] ?? ""
            case .section(let name, let inverted, let children):
                if (flags[name] ?? false) != inverted { out += render(children, values, flags) }
            }
        }
        return out
    }

    private enum Token {
        case text(String)
        case tag(sigil: Character?, name: String)
    }

    private static func parse(_ source: String, file: String) throws(OutboxError) -> [Node] {
        var tokens: [Token] = []
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let newline = index < lines.count - 1 ? "\n" : ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let tag = standaloneSection(trimmed) {
                tokens.append(tag)
                continue
            }
            try scan(String(line) + newline, into: &tokens, file: file)
        }
        var stack: [(name: String, inverted: Bool, nodes: [Node])] = [("", false, [])]
        for token in tokens {
            switch token {
            case .text(let text): stack[stack.count - 1].nodes.append(.text(text))
            case .tag(nil, let name):
                guard valueNames.contains(name) else { throw .template(file: file, reason: "unknown placeholder {{\(name)}}") }
                stack[stack.count - 1].nodes.append(.value(name))
            case .tag(let sigil?, let name) where sigil == "#" || sigil == "^":
                guard flagNames.contains(name) else { throw .template(file: file, reason: "unknown section {{\(sigil)\(name)}}") }
                stack.append((name, sigil == "^", []))
            case .tag(_, let name):
                guard stack.count > 1, stack[stack.count - 1].name == name else {
                    throw .template(file: file, reason: "{{/\(name)}} closes no open section")
                }
                let section = stack.removeLast()
                stack[stack.count - 1].nodes.append(.section(name, inverted: section.inverted, section.nodes))
            }
        }
        guard stack.count == 1 else { throw .template(file: file, reason: "section {{#\(stack[stack.count - 1].name)}} is not closed") }
        return stack[0].nodes
    }

    /// `{{#x}}`, `{{^x}}` or `{{/x}}` filling a whole line.
    private static func standaloneSection(_ line: String) -> Token? {
        guard line.hasPrefix("{{"), line.hasSuffix("}}"), line.count > 5 else { return nil }
        let inner = line.dropFirst(2).dropLast(2)
        guard let sigil = inner.first, "#^/".contains(sigil), !inner.contains("{"), !inner.contains("}") else { return nil }
        return .tag(sigil: sigil, name: inner.dropFirst().trimmingCharacters(in: .whitespaces))
    }

    private static func scan(_ text: String, into tokens: inout [Token], file: String) throws(OutboxError) {
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { tokens.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw .template(file: file, reason: "unclosed {{")
            }
            var inner = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            var sigil: Character? = nil
            if let first = inner.first, "#^/".contains(first) {
                sigil = first
                inner = inner.dropFirst().trimmingCharacters(in: .whitespaces)
            }
            guard !inner.isEmpty else { throw .template(file: file, reason: "empty tag {{}}") }
            tokens.append(.tag(sigil: sigil, name: inner))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { tokens.append(.text(String(rest))) }
    }
}
