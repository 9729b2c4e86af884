import Foundation
import GRDB

/// Copies a SQLite vault into an empty PostgreSQL database (`custody store migrate`), row for row:
/// ids, audit hashes and sealed values unchanged, so the same master key opens it and the chain
/// verifies. Times SQLite kept as text are written as seconds. All or nothing: one transaction.
struct PGImport: Sendable {
    /// Tables in the order their references need.
    static let tables = [
        "users", "userGroups", "userGroupMembers", "tokens", "loginFailures", "policies", "resourceTypes", "resources", "accounts",
        "secrets", "groups", "groupResources", "shares", "settings", "vaultMeta", "audit", "resetConfigs", "tasks", "listeners",
        "listenerRuns", "rotations", "rotationRuns", "integrityRuns", "expiries", "notifications", "notificationRules",
        "notificationTemplates", "notificationMarks", "agents", "enrollmentTokens", "agentNonces", "agentJobs", "totp", "agentBindings",
        "accessPolicies", "accessRequests", "accessApprovers",
    ]

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let source: DatabasePool
    let target: PGDatabase

    /// Rows per table in the SQLite vault.
    func sourceCounts() async throws -> [String: Int] {
        try await source.read { db in
            var out: [String: Int] = [:]
            for t in Self.tables { out[t] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(t)") ?? 0 }
            return out
        }
    }

    func targetCounts() async throws -> [String: Int] {
        try await target.read { c in
            var out: [String: Int] = [:]
            for t in Self.tables { out[t] = try await c.scalar(Int.self, "SELECT COUNT(*) FROM \(t)") ?? 0 }
            return out
        }
    }

    /// Copies every table; `progress` is told (table, rows copied of it, rows of it) as it goes.
    /// Refused unless the target holds no users, audit records or vault records.
    func copy(progress: @escaping @Sendable (String, Int, Int) -> Void) async throws {
        try await PGMigrations.migrate(target)
        let types = try await columnTypes()
        try await target.write { c in
            for t in ["users", "audit", "vaultMeta", "secrets"] where try await c.scalar(Int.self, "SELECT COUNT(*) FROM \(t)") != 0 {
                throw Failure(description: "the PostgreSQL database is not empty (table \(t) has rows); migrate into an empty database")
            }
            for table in Self.tables {
                let order = table == "secrets" || table == "audit" || table == "loginFailures" || table == "agentNonces" ? "rowid" : "1"
                let rows = try await source.read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)") }
                progress(table, 0, rows.count)
                var done = 0
                for batch in stride(from: 0, to: rows.count, by: 100).map({ Array(rows[$0..<min($0 + 100, rows.count)]) }) {
                    guard let first = batch.first else { continue }
                    let columns = Array(first.columnNames)
                    var values: [any PGBindable] = []
                    for row in batch {
                        for col in columns { values.append(try Self.value(row[col] as DatabaseValue, as: types[table]?[col.lowercased()], table, col)) }
                    }
                    let tuple = "(" + PGStatement.marks(columns.count) + ")"
                    let conflict = table == "policies" || table == "resourceTypes" ? " ON CONFLICT DO NOTHING" : ""
                    try await c.execute("INSERT INTO \(table) (\(columns.map(Self.quoted).joined(separator: ", "))) VALUES "
                        + Array(repeating: tuple, count: batch.count).joined(separator: ", ") + conflict, values)
                    done += batch.count
                    progress(table, done, rows.count)
                }
            }
            // Counted inside the transaction: a copy that does not match is rolled back whole.
            let source = try await sourceCounts()
            for t in Self.tables where !["policies", "resourceTypes"].contains(t) {
                let copied = try await c.scalar(Int.self, "SELECT COUNT(*) FROM \(t)") ?? 0
                guard copied == source[t] ?? 0 else { throw Failure(description: "\(t): \(copied) rows copied of \(source[t] ?? 0); nothing was kept") }
            }
            try await PGCatalog.seed(c)
        }
    }

    static func quoted(_ column: String) -> String { column == "user" ? "\"user\"" : column }

    /// The PostgreSQL column types, by table and (lower-case) column.
    private func columnTypes() async throws -> [String: [String: String]] {
        try await target.read { c in
            var out: [String: [String: String]] = [:]
            for r in try await c.rows("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()") {
                out[try r["table_name", as: String.self].lowercased(), default: [:]][try r["column_name", as: String.self]] = try r["data_type", as: String.self]
            }
            return out.reduce(into: [:]) { acc, kv in acc[Self.tables.first { $0.lowercased() == kv.key } ?? kv.key] = kv.value }
        }
    }

    /// A SQLite value as the PostgreSQL column takes it.
    static func value(_ v: DatabaseValue, as type: String?, _ table: String, _ column: String) throws -> PGValue {
        func bad() -> Failure { Failure(description: "\(table).\(column): \(v) does not fit \(type ?? "the column")") }
        switch v.storage {
        case .null: return .null
        case .int64(let i):
            switch type {
            case "double precision": return .double(Double(i))
            case "text": return .text(String(i))
            default: return .int(i)
            }
        case .double(let d):
            switch type {
            case "integer", "bigint":
                guard d == d.rounded(), abs(d) < 9e15 else { throw bad() }
                return .int(Int64(d))
            case "text": return .text(String(d))
            default: return .double(d)
            }
        case .string(let s):
            switch type {
            case "double precision":
                if let d = Double(s) { return .double(d) }
                guard let date = Date.fromDatabaseValue(v) else { throw bad() }  // GRDB's text dates, from before epoch seconds
                return .double(date.timeIntervalSince1970)
            case "integer", "bigint":
                guard let i = Int64(s) else { throw bad() }
                return .int(i)
            case "bytea": return .bytes(Data(s.utf8))
            default: return .text(s)
            }
        case .blob(let b):
            guard type == "bytea" || type == nil else { throw bad() }
            return .bytes(b)
        }
    }
}
