import Foundation

/// The parsed templates the writer uses: for each message and language, the organisation's file
/// from `[outbox] templates_dir` when there is a valid one, else the built-in text.
///
/// Loading never fails: a broken override is reported (the daemon logs it at start, `doctor`
/// can call `validate`) and the built-in template is used, because a typo in a template must not
/// stop password resets. `validate` is the strict form for checks.
public struct OutboxTemplates: Sendable {
    private let templates: [String: MessageTemplate]
    /// Files of the override directory that were used.
    public let overridden: [String]

    private static func key(_ name: TemplateName, _ locale: OutboxLocale) -> String { "\(name.rawValue).\(locale.rawValue)" }

    /// Built-in templates only.
    public static let builtin: OutboxTemplates = {
        var parsed: [String: MessageTemplate] = [:]
        for name in TemplateName.allCases {
            for locale in OutboxLocale.allCases {
                // The built-in text is tested; a failure here is a build defect.
                parsed[key(name, locale)] = try! MessageTemplate(parsing: BuiltinTemplates.source(name, locale),
                                                                 file: "built-in \(key(name, locale))")
            }
        }
        return OutboxTemplates(templates: parsed, overridden: [])
    }()

    private init(templates: [String: MessageTemplate], overridden: [String]) {
        self.templates = templates
        self.overridden = overridden
    }

    /// Loads the overrides in `directory` ("" = none). Returns the templates and the problems
    /// found (unreadable or invalid files, and `.txt` files whose name matches no template).
    public static func load(overridesIn directory: String) -> (OutboxTemplates, [OutboxError]) {
        guard !directory.isEmpty else { return (builtin, []) }
        var templates = builtin.templates
        var used: [String] = []
        var problems: [OutboxError] = []
        let known = Set(TemplateName.allCases.flatMap { name in OutboxLocale.allCases.map { "\(key(name, $0)).txt" } })
        let present: [String]
        do {
            present = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            return (builtin, [.template(file: directory, reason: "cannot read the directory: \(error.localizedDescription)")])
        }
        for file in present.sorted() where file.hasSuffix(".txt") && !known.contains(file) {
            problems.append(.template(file: "\(directory)/\(file)", reason: "not a template name (expected <reset|change|unlock|admin-reset>.<en|zh-CN|zh-TW>.txt)"))
        }
        for name in TemplateName.allCases {
            for locale in OutboxLocale.allCases {
                let file = "\(key(name, locale)).txt"
                guard present.contains(file) else { continue }
                let path = (directory as NSString).appendingPathComponent(file)
                do {
                    guard let data = FileManager.default.contents(atPath: path) else {
                        throw OutboxError.template(file: path, reason: "cannot be read")
                    }
                    guard let text = String(data: data, encoding: .utf8) else {
                        throw OutboxError.template(file: path, reason: "is not UTF-8")
                    }
                    templates[key(name, locale)] = try MessageTemplate(parsing: text, file: path)
                    used.append(path)
                } catch let error as OutboxError {
                    problems.append(error)
                } catch {
                    problems.append(.template(file: path, reason: "\(error)"))
                }
            }
        }
        return (OutboxTemplates(templates: templates, overridden: used), problems)
    }

    /// The strict check for `doctor`: throws the first problem of the override directory.
    public static func validate(overridesIn directory: String) throws(OutboxError) {
        if let problem = load(overridesIn: directory).1.first { throw problem }
    }

    func template(_ name: TemplateName, _ locale: OutboxLocale) -> MessageTemplate {
        templates[OutboxTemplates.key(name, locale)]!
    }
}
