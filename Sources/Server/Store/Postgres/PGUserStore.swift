import Foundation

/// `UserStore` on PostgreSQL: `users` (names under the case-insensitive collation), with `tokens`
/// and `shares` as a change or a deletion needs them.
struct PGUserStore: UserStore {
    let db: PGDatabase
    let log: PGAuditLog

    func users() async throws -> [UserRecord] {
        try await db.read { c in try await c.all(UserRecord.self, "SELECT * FROM users ORDER BY username") }
    }

    func users(named prefix: String?, role: Role?, _ page: PageRequest) async throws -> Page<UserRecord> {
        let q = NamedListQuery.users(role: role, .postgres).page(prefix: prefix, page)
        let rows = try await db.read { c in try await c.all(UserRecord.self, q.sql, q.arguments) }
        return Page(fetched: rows, page) { PageCursor(key: $0.username, id: $0.id) }
    }

    func user(id: String) async throws -> UserRecord? {
        try await db.read { c in try await c.one(UserRecord.self, "SELECT * FROM users WHERE id = ?", [id]) }
    }

    func add(_ user: UserRecord, audit: AuditEvent) async throws {
        try await db.write { c in
            if try await c.scalar(Int.self, "SELECT 1 FROM users WHERE username = ?", [user.username]) != nil {
                throw StoreError(code: .conflict, message: "a user named '\(user.username)' exists")
            }
            try await c.insert(user, into: "users")
            try await log.append(audit, c)
        }
    }

    func update(_ id: String, at: Date, _ change: @Sendable (UserRecord) throws -> UserChange) async throws -> UserRecord? {
        try await db.write { c in
            guard let stored = try await c.one(UserRecord.self, "SELECT * FROM users WHERE id = ?", [id]) else { return nil }
            let ch = try change(stored)
            if ch.endSessions {
                try await c.execute("UPDATE tokens SET revokedAt = ? WHERE userId = ? AND revokedAt IS NULL", [at, id])
            }
            try await c.update(ch.user, in: "users")
            try await log.append(ch.audit, c)
            return ch.user
        }
    }

    func delete(_ id: String, audit: @Sendable (UserRecord) throws -> AuditEvent) async throws -> UserRecord? {
        try await db.write { c in
            guard let u = try await c.one(UserRecord.self, "SELECT * FROM users WHERE id = ?", [id]) else { return nil }
            let event = try audit(u)
            let owned = try await c.scalar(Int.self, "SELECT (SELECT COUNT(*) FROM resources WHERE ownerId = ?) + (SELECT COUNT(*) FROM groups WHERE ownerId = ?)",
                [id, id]) ?? 0
            if owned > 0 { throw StoreError(code: .conflict, message: "user \(u.username) owns \(owned) resources or groups; transfer them first") }
            try await c.execute("DELETE FROM shares WHERE principalKind = 'user' AND principalId = ?", [id])
            try await c.execute("DELETE FROM users WHERE id = ?", [id])
            try await log.append(event, c)
            return u
        }
    }
}
