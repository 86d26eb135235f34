import GRDB

/// The queue's and the state store's statements, prepared once per connection and kept in
/// GRDB's statement cache. Each request runs about a dozen statements; preparing each one
/// anew (parse, plan, GRDB's authorizer callback per column) was the largest part of the
/// daemon's CPU in the drain profile (`make bench`, release build: `sqlite3_prepare_v3`
/// 13.5 % of samples, its authorizer 3 %). Only for SQL whose text is fixed: the cache is
/// keyed by the text and never shrinks.
extension Database {
    func cachedExecute(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    func cachedRows(sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    func cachedRow(sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    func cachedValues<T: DatabaseValueConvertible>(_ type: T.Type, sql: String, arguments: StatementArguments = StatementArguments()) throws -> [T] {
        try T.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    func cachedValue<T: DatabaseValueConvertible>(_ type: T.Type, sql: String, arguments: StatementArguments = StatementArguments()) throws -> T? {
        try T.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }
}
