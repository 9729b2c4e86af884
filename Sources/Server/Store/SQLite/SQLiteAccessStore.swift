import Foundation
import GRDB

/// `AccessStore` on SQLite: tables `accessPolicies`, `accessRequests` and `accessApprovers`.
struct SQLiteAccessStore: AccessStore {
    let db: DatabasePool
    let notices: SQLiteNotices
    /// Pokes the task engine after a commit that queued a reset.
    let queued: @Sendable () -> Void

    func policy(on object: AccessObject, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws
        -> StoredAccessPolicy
    {
        try await db.read { db in
            guard let (name, have) = try Self.object(object, p, db) else { return .notVisible }
            try authorize(have)
            let text = try String.fetchOne(db, sql: "SELECT policy FROM accessPolicies WHERE scope = ? AND scopeId = ?",
                arguments: [object.scope.rawValue, object.id])
            return .found(try text.map { try JSONDecoder().decode(AccessPolicy.self, from: Data($0.utf8)) }, name: name)
        }
    }

    func setPolicy(_ policy: AccessPolicy?, on object: AccessObject, by p: Principal, at: Date, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (String) -> AuditEvent) async throws -> Bool
    {
        try await db.write { db in
            guard let (name, have) = try Self.object(object, p, db) else { return false }
            try authorize(have)
            if let policy {
                try db.execute(sql: """
                    INSERT INTO accessPolicies(scope, scopeId, policy, updatedBy, updatedAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(scope, scopeId) DO UPDATE SET policy = excluded.policy, updatedBy = excluded.updatedBy, updatedAt = excluded.updatedAt
                    """, arguments: [object.scope.rawValue, object.id, try AccessRequestQuery.encode(policy), p.username, at.timeIntervalSince1970])
            } else {
                try db.execute(sql: "DELETE FROM accessPolicies WHERE scope = ? AND scopeId = ?", arguments: [object.scope.rawValue, object.id])
            }
            try AuditLog.append(audit(name), in: db)
            return true
        }
    }

    /// The object's name and the caller's permission on it; nil when it cannot see it.
    static func object(_ o: AccessObject, _ p: Principal, _ db: Database) throws -> (String, Permission)? {
        switch o.scope {
        case .account:
            guard let a = try AccountRecord.fetchOne(db, key: o.id), a.resourceId == o.resourceId, let r = try ResourceRecord.fetchOne(db, key: a.resourceId),
                let have = try Access.onAccount(a, resource: r, p, db)
            else { return nil }
            return ("\(r.name) / \(a.loginName)", have)
        case .resource:
            guard let r = try ResourceRecord.fetchOne(db, key: o.id), let have = try Access.onResource(r, p, db) else { return nil }
            return (r.name, have)
        case .group:
            guard let g = try GroupRecord.fetchOne(db, key: o.id), let have = try Access.onGroup(g, p, db) else { return nil }
            return (g.name, have)
        }
    }

    func people(users: [String], userGroups: [String]) async throws -> (users: [String: AccessPerson], groups: [String: (id: String, members: [AccessPerson])]) {
        try await db.read { db in
            var u: [String: AccessPerson] = [:], g: [String: (id: String, members: [AccessPerson])] = [:]
            for name in users {
                if let r = try UserRecord.filter(sql: "username = ? COLLATE NOCASE", arguments: [name]).fetchOne(db) { u[name] = Self.person(r) }
            }
            for name in userGroups {
                guard let id = try String.fetchOne(db, sql: "SELECT id FROM userGroups WHERE name = ? COLLATE NOCASE", arguments: [name]) else { continue }
                g[name] = (id, try Self.members(id, db))
            }
            return (u, g)
        }
    }

    func names(users: [String], userGroups: [String]) async throws -> (users: [String: String], groups: [String: String]) {
        try await db.read { db in
            var u: [String: String] = [:], g: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, username FROM users WHERE id IN (\(NamedListQuery.marks(users.count)))",
                arguments: StatementArguments(users)) { u[row["id"]] = row["username"] }
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM userGroups WHERE id IN (\(NamedListQuery.marks(userGroups.count)))",
                arguments: StatementArguments(userGroups)) { g[row["id"]] = row["name"] }
            return (u, g)
        }
    }

    func expand(_ people: AccessPolicy.People) async throws -> [AccessPerson] {
        try await db.read { db in try Self.expand(people, db) }
    }

    static func expand(_ people: AccessPolicy.People, _ db: Database) throws -> [AccessPerson] {
        var out: [String: AccessPerson] = [:]
        for r in try UserRecord.filter(keys: people.users).fetchAll(db) where !r.isDisabled { out[r.id] = person(r) }
        for g in people.userGroups { for m in try members(g, db) { out[m.id] = m } }
        return out.values.sorted { $0.username < $1.username }
    }

    static func person(_ r: UserRecord) -> AccessPerson {
        AccessPerson(id: r.id, username: r.username, role: r.role, beholdenTo: [r.createdById, r.promotedById, r.credentialsResetById].compactMap { $0 })
    }

    static func members(_ group: String, _ db: Database) throws -> [AccessPerson] {
        try UserRecord.fetchAll(db, sql: "SELECT u.* FROM users u JOIN userGroupMembers m ON m.userId = u.id WHERE m.groupId = ?",
            arguments: [group]).filter { !$0.isDisabled }.map(person)
    }
}
