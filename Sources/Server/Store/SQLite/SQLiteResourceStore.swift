import Foundation
import GRDB

/// `ResourceStore` on SQLite: table `resources` (accounts, secrets and bindings go with a
/// resource by `ON DELETE CASCADE`; shares are removed here), permissions through `Access`.
struct SQLiteResourceStore: ResourceStore {
    let db: DatabasePool

    func resources(visibleTo p: Principal, _ filter: ResourceFilter, _ page: PageRequest) async throws -> Page<ResourceEntry> {
        try await db.read { db in try Self.page(p, filter, page, db) }
    }

    static func page(_ p: Principal, _ filter: ResourceFilter, _ page: PageRequest, _ db: Database) throws -> Page<ResourceEntry> {
        let groups = p.superAdmin ? [] : try Access.userGroupIDs(p.userID, db)
        let q = ResourceListQuery(p, userGroups: groups, filter, page, .sqlite)
        // The SQL names each of the caller's user groups: cached only for callers without any, so
        // that the cache holds a bounded number of shapes (one per combination of filters).
        let entries = try db.list(q.sql, StatementArguments(q.arguments), ResourceRecord.rowColumns + ["ownerName"], cache: groups.isEmpty) { row, i in
            ResourceEntry(resource: try ResourceRecord(row: row, i), owner: try row.decode(String?.self, atIndex: i[13]) ?? "(deleted)")
        }
        return Page(fetched: entries, page, cursor: ResourceListQuery.cursor)
    }

    func resource(_ id: String, visibleTo p: Principal, viaAccounts: Bool) async throws -> (entry: ResourceEntry, permission: Permission)? {
        try await db.read { db in
            guard let (r, have) = try Self.visible(id, p, viaAccounts: viaAccounts, db) else { return nil }
            return (try Self.entry(r, db), have)
        }
    }

    func create(_ r: ResourceRecord, audit: AuditEvent) async throws {
        try await db.write { db in
            try Catalog.requireType(r.type, db)
            if let pol = r.passwordPolicy { _ = try Catalog.policy(named: pol, db) }
            if try ResourceRecord.filter(Column("name") == r.name).fetchCount(db) > 0 {
                throw StoreError(code: .conflict, message: "a resource named '\(r.name)' exists")
            }
            try r.insert(db)
            try AuditLog.append(audit, in: db)
        }
    }

    func update(_ id: String, by p: Principal, _ change: @Sendable (ResourceRecord, Permission) throws -> ResourceRecord,
        audit: @Sendable (ResourceRecord) -> AuditEvent) async throws -> ResourceEntry?
    {
        try await db.write { db in
            guard let (stored, have) = try Self.visible(id, p, viaAccounts: false, db) else { return nil }
            let r = try change(stored, have)
            if r.type != stored.type { try Catalog.requireType(r.type, db) }
            if let pol = r.passwordPolicy, pol != stored.passwordPolicy { _ = try Catalog.policy(named: pol, db) }
            try r.update(db)
            try AuditLog.append(audit(r), in: db)
            return try Self.entry(r, db)
        }
    }

    func delete(_ id: String, by p: Principal, authorize: @Sendable (ResourceRecord, Permission) throws -> Void,
        audit: @Sendable (ResourceRecord, _ accounts: Int) -> AuditEvent) async throws -> Bool
    {
        try await db.write { db in
            guard let (r, have) = try Self.visible(id, p, viaAccounts: false, db) else { return false }
            try authorize(r, have)
            let accountIDs = try String.fetchAll(db, sql: "SELECT id FROM accounts WHERE resourceId = ?", arguments: [r.id])
            for a in accountIDs where try TaskRecord.resetUnderWay(a, db) {
                throw DomainError(.conflict, "reset_in_progress", "a reset of this account is under way: deleting the resource waits until it has ended")
            }
            try db.execute(sql: "DELETE FROM shares WHERE objectKind = 'resource' AND objectId = ?", arguments: [r.id])
            for a in accountIDs {
                try db.execute(sql: "DELETE FROM shares WHERE objectKind = 'account' AND objectId = ?", arguments: [a])
            }
            _ = try r.delete(db)
            try AuditLog.append(audit(r, accountIDs.count), in: db)
            return true
        }
    }

    func transfer(_ id: String, to username: String, by p: Principal,
        authorize: @Sendable (ResourceRecord, Permission, UserRecord?) throws -> Void,
        audit: @Sendable (ResourceRecord, UserRecord) -> AuditEvent) async throws -> Bool
    {
        try await db.write { db in
            guard var (r, have) = try Self.visible(id, p, viaAccounts: false, db) else { return false }
            let user = try UserRecord.filter(Column("username") == username).fetchOne(db)
            try authorize(r, have, user)
            guard let to = user else { throw StoreError(code: .notFound, message: "no user named '\(username)'") }
            r.ownerId = to.id
            try r.update(db)
            try AuditLog.append(audit(r, to), in: db)
            return true
        }
    }

    private static func visible(_ id: String, _ p: Principal, viaAccounts: Bool, _ db: Database) throws -> (ResourceRecord, Permission)? {
        guard let r = try ResourceRecord.fetchOne(db, key: id) else { return nil }
        if let have = try Access.onResource(r, p, db) { return (r, have) }
        guard viaAccounts else { return nil }
        let ids = try String.fetchAll(db, sql: "SELECT id FROM accounts WHERE resourceId = ?", arguments: [r.id])
        return try Access.grant(.account, ids, p, groups: try Access.userGroupIDs(p.userID, db), db) != nil ? (r, .view) : nil
    }

    private static func entry(_ r: ResourceRecord, _ db: Database) throws -> ResourceEntry {
        ResourceEntry(resource: r, owner: try Catalog.username(r.ownerId, db))
    }
}
