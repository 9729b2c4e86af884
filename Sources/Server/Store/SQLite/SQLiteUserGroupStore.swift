import Foundation
import GRDB

/// `UserGroupStore` on SQLite: tables `userGroups` and `userGroupMembers` (names COLLATE NOCASE).
struct SQLiteUserGroupStore: UserGroupStore {
    let db: DatabasePool

    func groups(memberOf userID: String?) async throws -> [UserGroup] {
        try await db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, name FROM userGroups WHERE ? IS NULL OR id IN (SELECT groupId FROM userGroupMembers WHERE userId = ?)
                ORDER BY name
                """, arguments: [userID, userID]).map { row in
                UserGroup(id: row["id"], name: row["name"], members: try Self.members(row["id"], db))
            }
        }
    }

    func groups(memberOf userID: String?, named prefix: String?, _ page: PageRequest) async throws -> Page<UserGroup> {
        let q = NamedListQuery.userGroups(memberOf: userID, .sqlite).page(prefix: prefix, page)
        return try await db.read { db in
            let rows = try Row.fetchAll(db, sql: q.sql, arguments: StatementArguments(q.arguments)).map {
                UserGroup(id: try $0.decode(String.self, forColumn: "id"), name: try $0.decode(String.self, forColumn: "name"), members: [])
            }
            let found = Page(fetched: rows, page) { PageCursor(key: $0.name, id: $0.id) }
            let ids = found.items.map(\.id)
            var members: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: NamedListQuery.members(ids), arguments: StatementArguments(ids)) {
                members[try row.decode(String.self, forColumn: "groupId"), default: []].append(try row.decode(String.self, forColumn: "username"))
            }
            return found.map { UserGroup(id: $0.id, name: $0.name, members: members[$0.id] ?? []) }
        }
    }

    func create(id: String, name: String, members: [String], audit event: AuditEvent) async throws {
        try await db.write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM userGroups WHERE name = ?)", arguments: [name]) == true {
                throw StoreError(code: .conflict, message: "a user group named '\(name)' exists")
            }
            try db.execute(sql: "INSERT INTO userGroups(id, name) VALUES (?, ?)", arguments: [id, name])
            try Self.setMembers(id, members, db)
            try AuditLog.append(event, in: db)
        }
    }

    func setMembers(_ id: String, _ members: [String], audit event: AuditEvent) async throws -> Bool {
        try await db.write { db in
            guard try Self.exists(id, db) else { return false }
            try Self.setMembers(id, members, db)
            try AuditLog.append(event, in: db)
            return true
        }
    }

    func delete(_ id: String, audit event: AuditEvent) async throws -> Bool {
        try await db.write { db in
            guard try Self.exists(id, db) else { return false }
            try db.execute(sql: "DELETE FROM shares WHERE principalKind = 'userGroup' AND principalId = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM userGroups WHERE id = ?", arguments: [id])
            try AuditLog.append(event, in: db)
            return true
        }
    }

    private static func exists(_ id: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM userGroups WHERE id = ?)", arguments: [id]) ?? false
    }

    private static func members(_ id: String, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT u.username FROM userGroupMembers m JOIN users u ON u.id = m.userId WHERE m.groupId = ? ORDER BY u.username",
            arguments: [id])
    }

    private static func setMembers(_ id: String, _ usernames: [String], _ db: Database) throws {
        try db.execute(sql: "DELETE FROM userGroupMembers WHERE groupId = ?", arguments: [id])
        for name in usernames {
            guard let uid = try String.fetchOne(db, sql: "SELECT id FROM users WHERE username = ?", arguments: [name]) else {
                throw StoreError(code: .notFound, message: "no user named '\(name)'")
            }
            try db.execute(sql: "INSERT OR IGNORE INTO userGroupMembers(groupId, userId) VALUES (?, ?)", arguments: [id, uid])
        }
    }
}
