import Foundation

/// `ShareStore` on PostgreSQL: table `shares`, names from `users` and `userGroups`.
struct PGShareStore: ShareStore {
    let db: PGDatabase
    let log: PGAuditLog

    func shares(of target: ShareTarget, by p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> ShareList? {
        try await db.read { c in
            guard let (kind, id, _, have) = try await Self.visible(target, p, c) else { return nil }
            try authorize(have)
            var out = ShareList()
            for s in try await c.all(ShareRecord.self, "SELECT * FROM shares WHERE objectKind = ? AND objectId = ? ORDER BY principalKind, principalId",
                [kind.rawValue, id])
            {
                if s.principalKind == .user {
                    out.users.append(.init(username: try await PGCatalog.username(s.principalId, c), permission: s.permission))
                } else if let name = try await c.scalar(String.self, "SELECT name FROM userGroups WHERE id = ?", [s.principalId]) {
                    out.userGroups.append(.init(name: name, permission: s.permission))
                }
            }
            return out
        }
    }

    func replace(_ target: ShareTarget, with list: ShareList, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        rule: ShareRule, audit: @Sendable (SharedObject) -> AuditEvent) async throws -> ShareOutcome
    {
        try await db.write { c in
            guard let (kind, id, object, have) = try await Self.visible(target, p, c) else { return .notVisible }
            try authorize(have)
            let held = try await c.all(ShareRecord.self, "SELECT * FROM shares WHERE objectKind = ? AND objectId = ?", [kind.rawValue, id])
            let mine = try await c.rows("SELECT g.id, g.name FROM userGroups g JOIN userGroupMembers m ON m.groupId = g.id WHERE m.userId = ?",
                [p.userID]).map { (id: try $0["id", as: String.self], name: try $0["name", as: String.self]) }
            try rule(held, mine)
            var records: [ShareRecord] = []
            for u in list.users {
                guard let uid = try await PGCatalog.user(named: u.username, c)?.id else {
                    return .unknownUser(u.username)
                }
                records.append(ShareRecord(objectKind: kind, objectId: id, principalKind: .user, principalId: uid, permission: u.permission))
            }
            for g in list.userGroups {
                guard let gid = try await PGCatalog.userGroupID(named: g.name, c) else {
                    return .unknownUserGroup(g.name)
                }
                records.append(ShareRecord(objectKind: kind, objectId: id, principalKind: .userGroup, principalId: gid, permission: g.permission))
            }
            try await c.execute("DELETE FROM shares WHERE objectKind = ? AND objectId = ?", [kind.rawValue, id])
            for r in records { try await Self.save(r, c) }
            try await log.append(audit(object), c)
            return .replaced
        }
    }

    /// Inserts or updates one share (`ShareRecord.save`).
    static func save(_ r: ShareRecord, _ c: PGConnection) async throws {
        try await c.execute("""
            INSERT INTO shares(objectKind, objectId, principalKind, principalId, permission) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (objectKind, objectId, principalKind, principalId) DO UPDATE SET permission = excluded.permission
            """, [r.objectKind.rawValue, r.objectId, r.principalKind.rawValue, r.principalId, r.permission.rawValue])
    }

    private static func visible(_ target: ShareTarget, _ p: Principal, _ c: PGConnection) async throws
        -> (ShareRecord.ObjectKind, String, SharedObject, Permission)?
    {
        switch target {
        case .resource(let rid):
            guard let r = try await c.one(ResourceRecord.self, "SELECT * FROM resources WHERE id = ?", [rid]),
                let have = try await PGAccess.onResource(r, p, c)
            else { return nil }
            return (.resource, r.id, SharedObject(resource: r), have)
        case .group(let gid):
            guard let g = try await c.one(GroupRecord.self, "SELECT * FROM groups WHERE id = ?", [gid]), let have = try await PGAccess.onGroup(g, p, c)
            else { return nil }
            return (.group, g.id, SharedObject(group: g), have)
        case .account(let rid, let aid):
            guard let r = try await c.one(ResourceRecord.self, "SELECT * FROM resources WHERE id = ?", [rid]),
                let a = try await c.one(AccountRecord.self, "SELECT * FROM accounts WHERE id = ?", [aid]), a.resourceId == r.id,
                let have = try await PGAccess.onAccount(a, resource: r, p, c)
            else { return nil }
            return (.account, a.id, SharedObject(resource: r, account: a), have)
        }
    }
}
