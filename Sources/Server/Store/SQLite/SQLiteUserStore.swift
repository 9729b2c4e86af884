import Foundation
import GRDB

/// `UserStore` on SQLite: table `users` (names COLLATE NOCASE), with `tokens` and `shares` as a
/// change or a deletion needs them.
struct SQLiteUserStore: UserStore {
    let db: DatabasePool

    func users() async throws -> [UserRecord] { try await db.read { db in try UserRecord.order(Column("username")).fetchAll(db) } }

    func users(named prefix: String?, role: Role?, _ page: PageRequest) async throws -> Page<UserRecord> {
        let q = NamedListQuery.users(role: role, .sqlite).page(prefix: prefix, page)
        let rows = try await db.read { db in try UserRecord.fetchAll(db, sql: q.sql, arguments: StatementArguments(q.arguments)) }
        return Page(fetched: rows, page) { PageCursor(key: $0.username, id: $0.id) }
    }

    func user(id: String) async throws -> UserRecord? { try await db.read { db in try UserRecord.fetchOne(db, key: id) } }

    func add(_ user: UserRecord, audit: AuditEvent) async throws {
        try await db.write { db in
            if try UserRecord.filter(Column("username") == user.username).fetchCount(db) > 0 {
                throw StoreError(code: .conflict, message: "a user named '\(user.username)' exists")
            }
            try user.insert(db)
            try AuditLog.append(audit, in: db)
        }
    }

    func update(_ id: String, at: Date, _ change: @Sendable (UserRecord) throws -> UserChange) async throws -> UserRecord? {
        try await db.write { db in
            guard let stored = try UserRecord.fetchOne(db, key: id) else { return nil }
            let c = try change(stored)
            if c.endSessions {
                try db.execute(sql: "UPDATE tokens SET revokedAt = ? WHERE userId = ? AND revokedAt IS NULL", arguments: [at.seconds, id])
            }
            try c.user.update(db)
            try AuditLog.append(c.audit, in: db)
            return c.user
        }
    }

    func delete(_ id: String, audit: @Sendable (UserRecord) throws -> AuditEvent) async throws -> UserRecord? {
        try await db.write { db in
            guard let u = try UserRecord.fetchOne(db, key: id) else { return nil }
            let event = try audit(u)
            let owned = try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM resources WHERE ownerId = ?) + (SELECT COUNT(*) FROM groups WHERE ownerId = ?)",
                arguments: [id, id]) ?? 0
            if owned > 0 { throw StoreError(code: .conflict, message: "user \(u.username) owns \(owned) resources or groups; transfer them first") }
            try db.execute(sql: "DELETE FROM shares WHERE principalKind = 'user' AND principalId = ?", arguments: [id])
            _ = try u.delete(db)
            try AuditLog.append(event, in: db)
            return u
        }
    }
}
