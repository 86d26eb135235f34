import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `--log-format json`: one JSON object per line on stderr (`ts`, `level`, `msg`, `label`,
/// then the metadata as string fields), for journald's and log shippers' parsers. Writes
/// each line with a single `write(2)`, so concurrent lines never interleave.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: String] = [:]
        for (k, v) in metadata { object[k] = "\(v)" }
        if let extra = event.metadata { for (k, v) in extra { object[k] = "\(v)" } }
        object["ts"] = Timestamp.format(Date())
        object["level"] = event.level.rawValue
        object["msg"] = "\(event.message)"
        object["label"] = label
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(object) else { return }
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

/// The two `--log-format` values.
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json

    /// Bootstraps swift-log once for the process; every line goes to stderr.
    public func bootstrap(level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in
            switch self {
            case .json:
                var h = JSONLogHandler(label: label)
                h.logLevel = level
                return h
            case .text:
                var h = StreamLogHandler.standardError(label: label)
                h.logLevel = level
                return h
            }
        }
    }
}
