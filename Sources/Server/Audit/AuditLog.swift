import Foundation
import GRDB

/// Append-only, hash-chained audit trail. Appends run inside the caller's write transaction,
/// so an action and its record commit together.
enum AuditLog {
    static func append(_ e: AuditEvent, in db: Database, at date: Date = Date()) throws {
        let last = try Row.fetchOne(db, sql: "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
        let prev: String = last?["hash"] ?? AuditEntry.genesis
        let id: Int64 = (last?["id"] ?? 0) + 1
        let at = (date.timeIntervalSince1970 * 1_000_000).rounded() / 1_000_000
        let fields: [String?] = [
            e.user, e.ip, e.operation, e.resource, e.account, e.reason, e.ticketId, e.outcome, e.message,
            e.resourceId, e.accountId,
        ]
        let hash = AuditEntry.digest(key: try key(db), prev: prev, id: id, at: at, fields: fields)
        try db.execute(
            sql: """
                INSERT INTO audit (id, at, user, ip, operation, resource, account, reason, ticketId, outcome,
                  message, resourceId, accountId, prevHash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                """,
            arguments: StatementArguments([id.databaseValue, at.databaseValue] + fields.map { $0?.databaseValue ?? .null } + [prev.databaseValue, hash.databaseValue]))
        try db.execute(
            sql: "INSERT INTO settings(key, value) VALUES ('audit.head', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: ["\(id):\(hash)"])
    }

    static func key(_ db: Database) throws -> Data {
        guard let key = try Data.fetchOne(db, sql: "SELECT custody_audit_key()") else {
            throw VaultError(.keyMissing, "the audit key is not loaded (the vault is not open)")
        }
        return key
    }

    struct Query: Sendable {
        var resourceId: String? = nil
        var accountId: String? = nil
        var since: Date? = nil
        var user: String? = nil
        var operation: String? = nil
        var limit: Int = 100
        /// Limits the records to the principal's own and those of resources it can see.
        var scopedTo: Principal? = nil
    }

    static func fetch(_ q: Query, in db: Database) throws -> [AuditEntry] {
        var sql = "SELECT * FROM audit WHERE 1=1"
        var args: [any DatabaseValueConvertible] = []
        if let r = q.resourceId { sql += " AND resourceId = ?"; args.append(r) }
        if let a = q.accountId { sql += " AND accountId = ?"; args.append(a) }
        if let s = q.since { sql += " AND at >= ?"; args.append(s.timeIntervalSince1970) }
        if let u = q.user { sql += " AND user = ?"; args.append(u) }
        if let o = q.operation { sql += " AND operation = ?"; args.append(o) }
        if let p = q.scopedTo {
            let visible = try Access.visibleResources(p, db).map(\.id)
            sql += " AND (user = ? OR resourceId IN (\(databaseQuestionMarks(count: max(1, visible.count)))))"
            args.append(p.username)
            args += visible.isEmpty ? [""] : visible
        }
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(q.limit)
        return try AuditEntry.fetchAll(db, sql: sql, arguments: StatementArguments(args))
    }
}
