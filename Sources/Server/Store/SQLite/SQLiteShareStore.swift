import Foundation
import GRDB

/// `ShareStore` on SQLite: table `shares` (principals by id), names from `users` and `userGroups`.
struct SQLiteShareStore: ShareStore {
    let db: DatabasePool

    func shares(of target: ShareTarget, by p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> ShareList? {
        try await db.read { db in
            guard let (kind, id, _, have) = try Self.visible(target, p, db) else { return nil }
            try authorize(have)
            var out = ShareList()
            for s in try ShareRecord.filter(Column("objectKind") == kind.rawValue && Column("objectId") == id).fetchAll(db) {
                if s.principalKind == .user {
                    out.users.append(.init(username: try Catalog.username(s.principalId, db), permission: s.permission))
                } else if let name = try String.fetchOne(db, sql: "SELECT name FROM userGroups WHERE id = ?", arguments: [s.principalId]) {
                    out.userGroups.append(.init(name: name, permission: s.permission))
                }
            }
            return out
        }
    }

    func replace(_ target: ShareTarget, with list: ShareList, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        rule: ShareRule, audit: @Sendable (SharedObject) -> AuditEvent) async throws -> ShareOutcome
    {
        try await db.write { db in
            guard let (kind, id, object, have) = try Self.visible(target, p, db) else { return .notVisible }
            try authorize(have)
            let held = try ShareRecord.filter(Column("objectKind") == kind.rawValue && Column("objectId") == id).fetchAll(db)
            let mine = try Row.fetchAll(db, sql: """
                SELECT g.id, g.name FROM userGroups g JOIN userGroupMembers m ON m.groupId = g.id WHERE m.userId = ?
                """, arguments: [p.userID]).map { (id: $0["id"] as String, name: $0["name"] as String) }
            try rule(held, mine)
            var records: [ShareRecord] = []
            for u in list.users {
                guard let uid = try String.fetchOne(db, sql: "SELECT id FROM users WHERE username = ?", arguments: [u.username]) else {
                    return .unknownUser(u.username)
                }
                records.append(ShareRecord(objectKind: kind, objectId: id, principalKind: .user, principalId: uid, permission: u.permission))
            }
            for g in list.userGroups {
                guard let gid = try String.fetchOne(db, sql: "SELECT id FROM userGroups WHERE name = ?", arguments: [g.name]) else {
                    return .unknownUserGroup(g.name)
                }
                records.append(ShareRecord(objectKind: kind, objectId: id, principalKind: .userGroup, principalId: gid, permission: g.permission))
            }
            try db.execute(sql: "DELETE FROM shares WHERE objectKind = ? AND objectId = ?", arguments: [kind.rawValue, id])
            for r in records { try r.save(db) }
            try AuditLog.append(audit(object), in: db)
            return .replaced
        }
    }

    /// The object's kind and id, what it is, and `p`'s permission on it; nil when `p` cannot see it.
    private static func visible(_ target: ShareTarget, _ p: Principal, _ db: Database)
        throws -> (ShareRecord.ObjectKind, String, SharedObject, Permission)?
    {
        switch target {
        case .resource(let rid):
            guard let r = try ResourceRecord.fetchOne(db, key: rid), let have = try Access.onResource(r, p, db) else { return nil }
            return (.resource, r.id, SharedObject(resource: r), have)
        case .group(let gid):
            guard let g = try GroupRecord.fetchOne(db, key: gid), let have = try Access.onGroup(g, p, db) else { return nil }
            return (.group, g.id, SharedObject(group: g), have)
        case .account(let rid, let aid):
            guard let r = try ResourceRecord.fetchOne(db, key: rid), let a = try AccountRecord.fetchOne(db, key: aid), a.resourceId == r.id,
                let have = try Access.onAccount(a, resource: r, p, db)
            else { return nil }
            return (.account, a.id, SharedObject(resource: r, account: a), have)
        }
    }
}
