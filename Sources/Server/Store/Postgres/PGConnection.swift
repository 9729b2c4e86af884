import Foundation
import Logging
import PostgresNIO

/// One connection lent by `PGDatabase`, inside or outside a transaction.
struct PGConnection: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// What runs once the write transaction commits (wake-ups); nil outside a transaction.
    var commitHooks: PGCommitHooks? = nil

    /// Runs `hook` after the transaction commits, never if it rolls back; at once outside one.
    func afterCommit(_ hook: @escaping @Sendable () -> Void) {
        if let commitHooks { commitHooks.add(hook) } else { hook() }
    }

    /// Runs a statement to its end. The rows are read even when unwanted: `query` returns once the
    /// statement is described, before it has run, and a statement's error (a server shutting down)
    /// is delivered only to its rows. Left unread, the error was lost and the next statement on the
    /// connection waited forever once the connection closed (postgres-nio 1.33).
    func execute(_ sql: String, _ values: [any PGBindable] = []) async throws {
        for try await _ in try await started(sql, values) {}
    }

    /// A statement's rows, once it is under way; `StoreUnavailable` if the connection closes first.
    private func started(_ sql: String, _ values: [any PGBindable]) async throws -> PostgresRowSequence {
        let (query, connection, logger) = (PGStatement(sql, values).query, connection, logger)
        return try await PGCloseWatch.shared.run(on: connection, logger: logger) { try await connection.query(query, logger: logger) }
    }

    func rows(_ sql: String, _ values: [any PGBindable] = []) async throws -> [PGRow] {
        var out: [PGRow] = []
        for try await row in try await started(sql, values) { out.append(PGRow(row: row)) }
        return out
    }

    func row(_ sql: String, _ values: [any PGBindable] = []) async throws -> PGRow? { try await rows(sql, values).first }

    /// Records decoded from every row.
    func all<T: Decodable>(_ type: T.Type, _ sql: String, _ values: [any PGBindable] = []) async throws -> [T] {
        try await rows(sql, values).map { try $0.decode(T.self) }
    }

    func one<T: Decodable>(_ type: T.Type, _ sql: String, _ values: [any PGBindable] = []) async throws -> T? {
        try await row(sql, values).map { try $0.decode(T.self) }
    }

    /// The first column of the first row; nil when there is no row or the value is NULL.
    func scalar<T: Decodable>(_ type: T.Type, _ sql: String, _ values: [any PGBindable] = []) async throws -> T? {
        guard let r = try await row(sql, values) else { return nil }
        return try r[0, as: Optional<T>.self]
    }

    /// The first column of every row.
    func column<T: Decodable>(_ type: T.Type, _ sql: String, _ values: [any PGBindable] = []) async throws -> [T] {
        try await rows(sql, values).map { try $0[0, as: T.self] }
    }

    /// Inserts a record, one column per property.
    func insert<T: Encodable>(_ record: T, into table: String) async throws {
        let cols = try PGRecordEncoder.columns(of: record)
        try await execute("INSERT INTO \(table) (\(cols.map(\.name).joined(separator: ", "))) VALUES (\(PGStatement.marks(cols.count)))",
            cols.map(\.value))
    }

    /// Updates the record's row, found by `key`; the number of rows changed.
    func update<T: Encodable>(_ record: T, in table: String, key: String = "id") async throws {
        let cols = try PGRecordEncoder.columns(of: record)
        guard let k = cols.first(where: { $0.name == key }) else { throw PGDecodingError("\(T.self) has no \(key)") }
        let set = cols.filter { $0.name != key }
        try await execute("UPDATE \(table) SET \(set.map { "\($0.name) = ?" }.joined(separator: ", ")) WHERE \(key) = ?",
            set.map(\.value) + [k.value])
    }
}

/// The hooks of one write transaction.
final class PGCommitHooks: @unchecked Sendable {
    private let lock = NSLock()
    private var hooks: [@Sendable () -> Void] = []
    func add(_ hook: @escaping @Sendable () -> Void) { lock.withLock { hooks.append(hook) } }
    func run() { for h in lock.withLock({ hooks }) { h() } }
}
