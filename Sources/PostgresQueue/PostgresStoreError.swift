import PostgresNIO

/// Why the PostgreSQL backend refused or failed. Cases name the cause; none carries a payload
/// or a password (server messages are the server's text about SQL, never row contents we sent:
/// every value is a bind parameter).
public enum PostgresStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case badURL(String, String)
    case passfile(String, String)
    /// The server refused a statement; `where` is the store and what it was doing.
    case server(where: String, message: String)

    public var description: String {
        switch self {
        case .badURL(let url, let why): "\(url): \(why)"
        case .passfile(let path, let why): "PGPASSFILE \(path): \(why)"
        case .server(let place, let message): "\(place): \(message)"
        }
    }

    /// A PSQLError's server message (severity, SQLSTATE, text) or its code, for people.
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let fields = e.serverInfo {
                return [fields[.sqlState].map { "SQLSTATE \($0)" }, fields[.message]].compactMap { $0 }.joined(separator: ": ")
            }
            return "\(e.code)"
        }
        return "\(error)"
    }

    /// SQLSTATE 23505: a unique key exists already.
    static func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }
}
