import Foundation

/// `AccessStore` on PostgreSQL: the same tables and rules as `SQLiteAccessStore`.
struct PGAccessStore: AccessStore {
    let db: PGDatabase
    let log: PGAuditLog
    let notices: PGNotices
    let queued: @Sendable () -> Void

    func policy(on object: AccessObject, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws
        -> StoredAccessPolicy
    {
        try await db.read { c in
            guard let (name, have) = try await Self.object(object, p, c) else { return .notVisible }
            try authorize(have)
            let text = try await c.scalar(String.self, "SELECT policy FROM accessPolicies WHERE scope = ? AND scopeId = ?",
                [object.scope.rawValue, object.id])
            return .found(try text.map { try JSONDecoder().decode(AccessPolicy.self, from: Data($0.utf8)) }, name: name)
        }
    }

    func setPolicy(_ policy: AccessPolicy?, on object: AccessObject, by p: Principal, at: Date, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (String) -> AuditEvent) async throws -> Bool
    {
        try await db.write { [log] c in
            guard let (name, have) = try await Self.object(object, p, c) else { return false }
            try authorize(have)
            if let policy {
                try await c.execute("""
                    INSERT INTO accessPolicies(scope, scopeId, policy, updatedBy, updatedAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (scope, scopeId) DO UPDATE SET policy = excluded.policy, updatedBy = excluded.updatedBy, updatedAt = excluded.updatedAt
                    """, [object.scope.rawValue, object.id, try AccessRequestQuery.encode(policy), p.username, at])
            } else {
                try await c.execute("DELETE FROM accessPolicies WHERE scope = ? AND scopeId = ?", [object.scope.rawValue, object.id])
            }
            try await log.append(audit(name), c)
            return true
        }
    }

    static func object(_ o: AccessObject, _ p: Principal, _ c: PGConnection) async throws -> (String, Permission)? {
        switch o.scope {
        case .account:
            guard let a = try await PGQueries.account(o.id, c), a.resourceId == o.resourceId, let r = try await PGQueries.resource(a.resourceId, c),
                let have = try await PGAccess.onAccount(a, resource: r, p, c)
            else { return nil }
            return ("\(r.name) / \(a.loginName)", have)
        case .resource:
            guard let r = try await PGQueries.resource(o.id, c), let have = try await PGAccess.onResource(r, p, c) else { return nil }
            return (r.name, have)
        case .group:
            guard let g = try await c.one(GroupRecord.self, "SELECT * FROM groups WHERE id = ?", [o.id]), let have = try await PGAccess.onGroup(g, p, c)
            else { return nil }
            return (g.name, have)
        }
    }

    func people(users: [String], userGroups: [String]) async throws -> (users: [String: AccessPerson], groups: [String: (id: String, members: [AccessPerson])]) {
        try await db.read { c in
            var u: [String: AccessPerson] = [:], g: [String: (id: String, members: [AccessPerson])] = [:]
            for name in users {
                if let r = try await c.one(UserRecord.self, "SELECT * FROM users WHERE username = ?", [name]) { u[name] = SQLiteAccessStore.person(r) }
            }
            for name in userGroups {
                guard let id = try await c.scalar(String.self, "SELECT id FROM userGroups WHERE name = ?", [name]) else { continue }
                g[name] = (id, try await Self.members(id, c))
            }
            return (u, g)
        }
    }

    func names(users: [String], userGroups: [String]) async throws -> (users: [String: String], groups: [String: String]) {
        try await db.read { c in
            var u: [String: String] = [:], g: [String: String] = [:]
            for row in try await c.rows("SELECT id, username FROM users WHERE id IN (\(NamedListQuery.marks(users.count)))", users) {
                u[try row["id"]] = try row["username"]
            }
            for row in try await c.rows("SELECT id, name FROM userGroups WHERE id IN (\(NamedListQuery.marks(userGroups.count)))", userGroups) {
                g[try row["id"]] = try row["name"]
            }
            return (u, g)
        }
    }

    func expand(_ people: AccessPolicy.People) async throws -> [AccessPerson] {
        try await db.read { c in try await Self.expand(people, c) }
    }

    static func expand(_ people: AccessPolicy.People, _ c: PGConnection) async throws -> [AccessPerson] {
        var out: [String: AccessPerson] = [:]
        for r in try await c.all(UserRecord.self, "SELECT * FROM users WHERE id IN (\(NamedListQuery.marks(people.users.count)))", people.users)
        where !r.isDisabled { out[r.id] = SQLiteAccessStore.person(r) }
        for g in people.userGroups { for m in try await members(g, c) { out[m.id] = m } }
        return out.values.sorted { $0.username < $1.username }
    }

    static func members(_ group: String, _ c: PGConnection) async throws -> [AccessPerson] {
        try await c.all(UserRecord.self, "SELECT u.* FROM users u JOIN userGroupMembers m ON m.userId = u.id WHERE m.groupId = ?", [group])
            .filter { !$0.isDisabled }.map(SQLiteAccessStore.person)
    }
}
