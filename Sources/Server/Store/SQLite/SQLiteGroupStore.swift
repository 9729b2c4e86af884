import Foundation
import GRDB

/// `GroupStore` on SQLite: tables `groups` and `groupResources`, shares through `Access`.
struct SQLiteGroupStore: GroupStore {
    let db: DatabasePool

    /// The groups as their page decides them (`groups(named:)`), with the permission from one read of the shares.
    func groups(visibleTo p: Principal) async throws -> [(entry: GroupEntry, permission: Permission)] {
        try await db.read { db in
            let userGroups = p.superAdmin ? [] : try Access.userGroupIDs(p.userID, db)
            let entries = try Self.page(p, userGroups, nil, .all, db).items
            guard !p.superAdmin else { return NamedListQuery.visible(entries, p, grants: [:]) }
            let q = NamedListQuery.groupGrants(p, userGroups: userGroups)
            let rows = try Row.fetchAll(db, sql: q.sql, arguments: StatementArguments(q.arguments)).map { row in
                (object: try row.decode(String.self, atIndex: 0), kind: try row.decode(String.self, atIndex: 1),
                    permission: try row.decode(String.self, atIndex: 2))
            }
            return NamedListQuery.visible(entries, p, grants: NamedListQuery.grants(rows))
        }
    }

    /// One SELECT for the page (visibility, prefix, keyset, order and limit in SQL), one for its resources.
    func groups(named prefix: String?, _ page: PageRequest, visibleTo p: Principal) async throws -> Page<GroupEntry> {
        try await db.read { db in try Self.page(p, p.superAdmin ? [] : try Access.userGroupIDs(p.userID, db), prefix, page, db) }
    }

    private static func page(_ p: Principal, _ userGroups: [String], _ prefix: String?, _ page: PageRequest, _ db: Database) throws
        -> Page<GroupEntry>
    {
        let q = NamedListQuery.groups(p, userGroups: userGroups, .sqlite).page(prefix: prefix, page)
        let rows = try Row.fetchAll(db, sql: q.sql, arguments: StatementArguments(q.arguments)).map { row in
            (group: try GroupRecord(row: row), owner: try row.decode(String?.self, forColumn: "ownerName") ?? "(deleted)")
        }
        let found = Page(fetched: rows, page) { PageCursor(key: $0.group.name, id: $0.group.id) }
        var resources: [String: [String]] = [:]
        let ids = found.items.map(\.group.id)
        for row in try Row.fetchAll(db, sql: NamedListQuery.groupResources(ids), arguments: StatementArguments(ids)) {
            resources[try row.decode(String.self, forColumn: "groupId"), default: []].append(try row.decode(String.self, forColumn: "resourceId"))
        }
        return found.map { GroupEntry(group: $0.group, owner: $0.owner, resourceIds: resources[$0.group.id] ?? []) }
    }

    func group(_ id: String, visibleTo p: Principal) async throws -> (entry: GroupEntry, permission: Permission)? {
        try await db.read { db in try Self.visible(id, p, db).map { (try Self.entry($0.0, db), $0.1) } }
    }

    func create(_ group: GroupRecord, resourceIds: [String], by p: Principal, check: ResourceCheck, audit: AuditEvent) async throws
        -> GroupEntry
    {
        try await db.write { db in
            if let policy = group.passwordPolicy { try SQLitePolicyStore.requirePolicy(policy, db) }
            if try GroupRecord.filter(Column("name") == group.name).fetchCount(db) > 0 {
                throw StoreError(code: .conflict, message: "a group named '\(group.name)' exists")
            }
            try group.insert(db)
            try Self.setResources(group, resourceIds, p, check, db)
            try AuditLog.append(audit, in: db)
            return try Self.entry(group, db)
        }
    }

    func setResources(_ id: String, _ resourceIds: [String], by p: Principal, authorize: @Sendable (GroupRecord, Permission) throws -> Void,
        check: ResourceCheck, audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> GroupEntry?
    {
        try await db.write { db in
            guard let (g, have) = try Self.visible(id, p, db) else { return nil }
            try authorize(g, have)
            try Self.setResources(g, resourceIds, p, check, db)
            try AuditLog.append(audit(g), in: db)
            return try Self.entry(g, db)
        }
    }

    func delete(_ id: String, by p: Principal, authorize: @Sendable (GroupRecord, Permission) throws -> Void,
        audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> Bool
    {
        try await db.write { db in
            guard let (g, have) = try Self.visible(id, p, db) else { return false }
            try authorize(g, have)
            try db.execute(sql: "DELETE FROM shares WHERE objectKind = 'group' AND objectId = ?", arguments: [g.id])
            _ = try g.delete(db)
            try AuditLog.append(audit(g), in: db)
            return true
        }
    }

    func transfer(_ id: String, to username: String, by p: Principal,
        authorize: @Sendable (GroupRecord, Permission, UserRecord?) throws -> Void, audit: @Sendable (GroupRecord, UserRecord) -> AuditEvent)
        async throws -> Bool
    {
        try await db.write { db in
            guard var (g, have) = try Self.visible(id, p, db) else { return false }
            let user = try UserRecord.filter(Column("username") == username).fetchOne(db)
            try authorize(g, have, user)
            guard let to = user else { throw StoreError(code: .notFound, message: "no user named '\(username)'") }
            g.ownerId = to.id
            try g.update(db)
            try AuditLog.append(audit(g, to), in: db)
            return true
        }
    }

    private static func visible(_ id: String, _ p: Principal, _ db: Database) throws -> (GroupRecord, Permission)? {
        guard let g = try GroupRecord.fetchOne(db, key: id), let have = try Access.onGroup(g, p, db) else { return nil }
        return (g, have)
    }

    /// Every resource is checked before any is written.
    private static func setResources(_ g: GroupRecord, _ ids: [String], _ p: Principal, _ check: ResourceCheck, _ db: Database) throws {
        let unique = Set(ids).sorted()
        for id in unique {
            let r = try ResourceRecord.fetchOne(db, key: id)
            try check(id, r?.name, try r.flatMap { try Access.onResource($0, p, db) })
        }
        try db.execute(sql: "DELETE FROM groupResources WHERE groupId = ?", arguments: [g.id])
        for id in unique {
            try db.execute(sql: "INSERT INTO groupResources(groupId, resourceId) VALUES (?, ?)", arguments: [g.id, id])
        }
    }

    private static func entry(_ g: GroupRecord, _ db: Database) throws -> GroupEntry {
        GroupEntry(group: g, owner: try Catalog.username(g.ownerId, db),
            resourceIds: try String.fetchAll(db, sql: "SELECT resourceId FROM groupResources WHERE groupId = ? ORDER BY resourceId", arguments: [g.id]))
    }
}
