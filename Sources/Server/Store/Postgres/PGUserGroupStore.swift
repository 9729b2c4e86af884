import Foundation

/// `UserGroupStore` on PostgreSQL: tables `userGroups` and `userGroupMembers` (names without case).
struct PGUserGroupStore: UserGroupStore {
    let db: PGDatabase
    let log: PGAuditLog

    func groups(memberOf userID: String?) async throws -> [UserGroup] {
        try await db.read { c in
            var out: [UserGroup] = []
            for row in try await c.rows("""
                SELECT id, name FROM userGroups WHERE ?::text IS NULL OR id IN (SELECT groupId FROM userGroupMembers WHERE userId = ?)
                ORDER BY name
                """, [userID, userID])
            {
                let id: String = try row["id"]
                out.append(UserGroup(id: id, name: try row["name"], members: try await Self.members(id, c)))
            }
            return out
        }
    }

    func groups(memberOf userID: String?, named prefix: String?, _ page: PageRequest) async throws -> Page<UserGroup> {
        let q = NamedListQuery.userGroups(memberOf: userID, .postgres).page(prefix: prefix, page)
        return try await db.read { c in
            let rows = try await c.rows(q.sql, q.arguments).map { UserGroup(id: try $0["id"], name: try $0["name"], members: []) }
            let found = Page(fetched: rows, page) { PageCursor(key: $0.name, id: $0.id) }
            let ids = found.items.map(\.id)
            var members: [String: [String]] = [:]
            for row in try await c.rows(NamedListQuery.members(ids), ids) {
                members[try row["groupId"], default: []].append(try row["username"])
            }
            return found.map { UserGroup(id: $0.id, name: $0.name, members: members[$0.id] ?? []) }
        }
    }

    func create(id: String, name: String, members: [String], audit event: AuditEvent) async throws {
        try await db.write { c in
            if try await c.scalar(Int.self, "SELECT 1 FROM userGroups WHERE name = ?", [name]) != nil {
                throw StoreError(code: .conflict, message: "a user group named '\(name)' exists")
            }
            try await c.execute("INSERT INTO userGroups(id, name) VALUES (?, ?)", [id, name])
            try await Self.setMembers(id, members, c)
            try await log.append(event, c)
        }
    }

    func setMembers(_ id: String, _ members: [String], audit event: AuditEvent) async throws -> Bool {
        try await db.write { c in
            guard try await Self.exists(id, c) else { return false }
            try await Self.setMembers(id, members, c)
            try await log.append(event, c)
            return true
        }
    }

    func delete(_ id: String, audit event: AuditEvent) async throws -> Bool {
        try await db.write { c in
            guard try await Self.exists(id, c) else { return false }
            try await c.execute("DELETE FROM shares WHERE principalKind = 'userGroup' AND principalId = ?", [id])
            try await c.execute("DELETE FROM userGroups WHERE id = ?", [id])
            try await log.append(event, c)
            return true
        }
    }

    private static func exists(_ id: String, _ c: PGConnection) async throws -> Bool {
        try await c.scalar(Int.self, "SELECT 1 FROM userGroups WHERE id = ?", [id]) != nil
    }

    private static func members(_ id: String, _ c: PGConnection) async throws -> [String] {
        try await c.column(String.self, "SELECT u.username FROM userGroupMembers m JOIN users u ON u.id = m.userId WHERE m.groupId = ? ORDER BY u.username",
            [id])
    }

    private static func setMembers(_ id: String, _ usernames: [String], _ c: PGConnection) async throws {
        try await c.execute("DELETE FROM userGroupMembers WHERE groupId = ?", [id])
        for name in usernames {
            guard let uid = try await PGCatalog.user(named: name, c)?.id else {
                throw StoreError(code: .notFound, message: "no user named '\(name)'")
            }
            try await c.execute("INSERT INTO userGroupMembers(groupId, userId) VALUES (?, ?) ON CONFLICT DO NOTHING", [id, uid])
        }
    }
}
