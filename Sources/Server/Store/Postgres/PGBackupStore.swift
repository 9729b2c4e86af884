import Foundation
import GRDB
import PostgresNIO

/// `BackupStore` on PostgreSQL: every table read in one repeatable-read transaction (one instant
/// of the shared database) and written into a new SQLite file of the same schema, so a backup has
/// one form whatever the store. Restoring it gives a SQLite vault; `custody store migrate` moves
/// that into an empty PostgreSQL database.
struct PGBackupStore: BackupStore {
    let db: PGDatabase
    let log: PGAuditLog
    let notices: PGNotices

    func snapshot(into path: String, progress: @escaping @Sendable (Double) -> Void) async throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw BackupError(.io, "\(path) exists already") }
        let target = try Store.open(path: path)
        defer { try? target.db.close() }
        let columns = try await target.db.write { db -> [String: [String: String]] in
            var out: [String: [String: String]] = [:]
            for table in PGImport.tables {
                try db.execute(sql: "DELETE FROM \(table)")  // what the migrations seeded comes from the source instead
                for name in try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map({ $0["name"] as String }) {
                    out[table, default: [:]][name.lowercased()] = name
                }
            }
            return out
        }
        try await db.read { c in
            try await c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                for (n, table) in PGImport.tables.enumerated() {
                    // `secrets.seq` stands for SQLite's rowid (a password's versions in order).
                    let order = table == "secrets" ? " ORDER BY seq" : table == "audit" ? " ORDER BY id" : ""
                    try await c.execute("DECLARE backup_rows NO SCROLL CURSOR FOR SELECT * FROM \(table)\(order)")
                    while true {
                        let rows = try await c.rows("FETCH 2000 FROM backup_rows")
                        if rows.isEmpty { break }
                        let converted = try rows.map { try Self.values($0, columns[table] ?? [:], table) }
                        try await target.db.write { db in
                            for row in converted {
                                try db.execute(sql: "INSERT INTO \(table) (\(row.map { "\"\($0.0)\"" }.joined(separator: ", "))) VALUES ("
                                    + databaseQuestionMarks(count: row.count) + ")", arguments: StatementArguments(row.map(\.1)))
                            }
                        }
                    }
                    try await c.execute("CLOSE backup_rows")
                    progress(Double(n + 1) / Double(PGImport.tables.count))
                }
                try await c.execute("COMMIT")
            } catch {
                try? await c.execute("ROLLBACK")
                throw error
            }
        }
        try await target.db.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
    }

    /// A PostgreSQL row as SQLite column names and values.
    static func values(_ row: PGRow, _ columns: [String: String], _ table: String) throws -> [(String, DatabaseValue)] {
        try row.row.filter { !(table == "secrets" && $0.columnName == "seq") }.map { cell -> (String, DatabaseValue) in
            guard let name = columns[cell.columnName.lowercased()] else {
                throw BackupError(.io, "\(table).\(cell.columnName) has no column in this release's SQLite schema")
            }
            guard cell.bytes != nil else { return (name, .null) }
            switch cell.dataType {
            case .int2, .int4, .int8: return (name, try cell.decode(Int64.self).databaseValue)
            case .float4, .float8, .numeric: return (name, try cell.decode(Double.self).databaseValue)
            case .bool: return (name, (try cell.decode(Bool.self) ? 1 : 0).databaseValue)
            case .bytea: return (name, try cell.decode(ByteBuffer.self).readableBytesView.withUnsafeBytes { Data($0) }.databaseValue)
            default: return (name, try cell.decode(String.self).databaseValue)
            }
        }
    }

    func record(_ event: AuditEvent, failure: NotificationFacts?) async throws {
        try await db.write { [log, notices] c in
            try await log.append(event, c)
            guard let failure else { return }
            let supers = try await c.column(String.self, "SELECT id FROM users WHERE superAdmin = 1")
            try await notices.queue(Notice(failure, users: supers), c)
        }
    }
}
