import Foundation
import GRDB

/// Append-only, hash-chained audit trail. Appends run inside the caller's write transaction,
/// so an action and its record commit together.
enum AuditLog {
    /// Chains from the authenticated head, not from the last row: rows cut from the end leave a gap
    /// that `audit verify` reports. A rewritten head is recorded as an alarm before the event.
    static func append(_ e: AuditEvent, in db: Database, at date: Date = Date()) throws {
        try append(contentsOf: [e], in: db, at: date)
    }

    /// Several records in one go (a group commit's): the head is read and written once.
    static func append(contentsOf events: [AuditEvent], in db: Database, at date: Date = Date()) throws {
        guard !events.isEmpty else { return }
        let key = try key(db)
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1"))
        var id: Int64 = last?["id"] ?? 0
        var prev: String = last?["hash"] ?? AuditEntry.genesis
        let at = (date.timeIntervalSince1970 * 1_000_000).rounded() / 1_000_000
        switch try AuditHead.read(key: key, db) {
        case .valid(let headID, let headHash):
            if headID >= id { (id, prev) = (headID, headHash) }
        case .forged:
            let alarm = AuditEvent(user: "system", ip: "server", operation: AuditHead.alarm, outcome: "failure",
                message: "the audit head was missing or did not authenticate: records before this one may have been removed")
            (id, prev) = try insert(alarm, id: id + 1, prev: prev, at: at, key: key, db)
        }
        for e in events { (id, prev) = try insert(e, id: id + 1, prev: prev, at: at, key: key, db) }
        try AuditHead.write(id: id, hash: prev, key: key, db)
    }

    private static func insert(_ e: AuditEvent, id: Int64, prev: String, at: Double, key: Data, _ db: Database) throws -> (Int64, String) {
        let fields: [String?] = [
            e.user, e.ip, e.operation, e.resource, e.account, e.reason, e.ticketId, e.outcome, e.message,
            e.resourceId, e.accountId,
        ]
        let hash = AuditEntry.digest(key: key, prev: prev, id: id, at: at, fields: fields)
        try db.cachedStatement(sql: """
            INSERT INTO audit (id, at, user, ip, operation, resource, account, reason, ticketId, outcome,
              message, resourceId, accountId, prevHash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """).execute(
            arguments: StatementArguments([id.databaseValue, at.databaseValue] + fields.map { $0?.databaseValue ?? .null } + [prev.databaseValue, hash.databaseValue]))
        return (id, hash)
    }

    static func key(_ db: Database) throws -> Data {
        guard let key = try Data.fetchOne(db.cachedStatement(sql: "SELECT custody_audit_key()")) else {
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
        /// Only records older than this one (the next page of a list read newest first).
        var beforeID: Int64? = nil
        /// Only records newer than this one, and before `until` (the export reads oldest first).
        var afterID: Int64? = nil
        var until: Date? = nil
        var oldestFirst = false
        /// Limits the records to the caller's own and those of what it can see.
        var scope: ListScope? = nil
    }

    static func fetch(_ q: Query, in db: Database) throws -> [AuditEntry] {
        var sql = "SELECT * FROM audit WHERE 1=1"
        var args: [any DatabaseValueConvertible] = []
        if let r = q.resourceId { sql += " AND resourceId = ?"; args.append(r) }
        if let a = q.accountId { sql += " AND accountId = ?"; args.append(a) }
        if let s = q.since { sql += " AND at >= ?"; args.append(s.timeIntervalSince1970) }
        if let u = q.user { sql += " AND user = ?"; args.append(u) }
        if let o = q.operation { sql += " AND operation = ?"; args.append(o) }
        if let b = q.beforeID { sql += " AND id < ?"; args.append(b) }
        if let a = q.afterID { sql += " AND id > ?"; args.append(a) }
        if let u = q.until { sql += " AND at < ?"; args.append(u.timeIntervalSince1970) }
        if let s = q.scope, !s.everything {
            let whole = s.resources.isEmpty ? [""] : Array(s.resources)
            let accounts = s.accounts.isEmpty ? [""] : Array(s.accounts)
            sql += " AND (user = ? OR (accountId IS NULL AND resourceId IN (\(databaseQuestionMarks(count: whole.count))))"
                + " OR accountId IN (\(databaseQuestionMarks(count: accounts.count))))"
            args.append(s.username)
            args += whole
            args += accounts
        }
        sql += q.oldestFirst ? " ORDER BY id LIMIT ?" : " ORDER BY id DESC LIMIT ?"
        args.append(q.limit)
        // A scoped query names the caller's resources and accounts: too many shapes to cache.
        return try db.list(sql, StatementArguments(args), AuditEntry.rowColumns, cache: q.scope?.everything ?? true, AuditEntry.init)
    }
}
