import Foundation

/// `GroupStore` on PostgreSQL: tables `groups` and `groupResources`, shares through `PGAccess`.
struct PGGroupStore: GroupStore {
    let db: PGDatabase
    let log: PGAuditLog

    /// The groups as their page decides them (`groups(named:)`), with the permission from one read of the shares.
    func groups(visibleTo p: Principal) async throws -> [(entry: GroupEntry, permission: Permission)] {
        try await db.read { c in
            let userGroups = p.superAdmin ? [] : try await PGAccess.userGroupIDs(p.userID, c)
            let entries = try await Self.page(p, userGroups, nil, .all, c).items
            guard !p.superAdmin else { return NamedListQuery.visible(entries, p, grants: [:]) }
            let q = NamedListQuery.groupGrants(p, userGroups: userGroups)
            let rows = try await c.rows(q.sql, q.arguments).map { row in
                (object: try row[0, as: String.self], kind: try row[1, as: String.self], permission: try row[2, as: String.self])
            }
            return NamedListQuery.visible(entries, p, grants: NamedListQuery.grants(rows))
        }
    }

    /// One SELECT for the page (visibility, prefix, keyset, order and limit in SQL), one for its resources.
    func groups(named prefix: String?, _ page: PageRequest, visibleTo p: Principal) async throws -> Page<GroupEntry> {
        try await db.read { c in try await Self.page(p, p.superAdmin ? [] : try await PGAccess.userGroupIDs(p.userID, c), prefix, page, c) }
    }

    private static func page(_ p: Principal, _ userGroups: [String], _ prefix: String?, _ page: PageRequest, _ c: PGConnection) async throws
        -> Page<GroupEntry>
    {
        let q = NamedListQuery.groups(p, userGroups: userGroups, .postgres).page(prefix: prefix, page)
        let rows = try await c.rows(q.sql, q.arguments).map { row in
            (group: try row.decode(GroupRecord.self), owner: try row["ownerName", as: String?.self] ?? "(deleted)")
        }
        let found = Page(fetched: rows, page) { PageCursor(key: $0.group.name, id: $0.group.id) }
        var resources: [String: [String]] = [:]
        let ids = found.items.map(\.group.id)
        for row in try await c.rows(NamedListQuery.groupResources(ids), ids) {
            resources[try row["groupId"], default: []].append(try row["resourceId"])
        }
        return found.map { GroupEntry(group: $0.group, owner: $0.owner, resourceIds: resources[$0.group.id] ?? []) }
    }

    func group(_ id: String, visibleTo p: Principal) async throws -> (entry: GroupEntry, permission: Permission)? {
        try await db.read { c in
            guard let (g, have) = try await Self.visible(id, p, c) else { return nil }
            return (try await Self.entry(g, c), have)
        }
    }

    func create(_ group: GroupRecord, resourceIds: [String], by p: Principal, check: ResourceCheck, audit: AuditEvent) async throws
        -> GroupEntry
    {
        try await db.write { c in
            if let policy = group.passwordPolicy { try await PGPolicyStore.requirePolicy(policy, c) }
            if try await c.scalar(Int.self, "SELECT 1 FROM groups WHERE name = ?", [group.name]) != nil {
                throw StoreError(code: .conflict, message: "a group named '\(group.name)' exists")
            }
            try await c.insert(group, into: "groups")
            try await Self.setResources(group, resourceIds, p, check, c)
            try await log.append(audit, c)
            return try await Self.entry(group, c)
        }
    }

    func setResources(_ id: String, _ resourceIds: [String], by p: Principal, authorize: @Sendable (GroupRecord, Permission) throws -> Void,
        check: ResourceCheck, audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> GroupEntry?
    {
        try await db.write { c in
            guard let (g, have) = try await Self.visible(id, p, c) else { return nil }
            try authorize(g, have)
            try await Self.setResources(g, resourceIds, p, check, c)
            try await log.append(audit(g), c)
            return try await Self.entry(g, c)
        }
    }

    func delete(_ id: String, by p: Principal, authorize: @Sendable (GroupRecord, Permission) throws -> Void,
        audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> Bool
    {
        try await db.write { c in
            guard let (g, have) = try await Self.visible(id, p, c) else { return false }
            try authorize(g, have)
            try await c.execute("DELETE FROM shares WHERE objectKind = 'group' AND objectId = ?", [g.id])
            try await c.execute("DELETE FROM groups WHERE id = ?", [g.id])
            try await log.append(audit(g), c)
            return true
        }
    }

    func transfer(_ id: String, to username: String, by p: Principal,
        authorize: @Sendable (GroupRecord, Permission, UserRecord?) throws -> Void, audit: @Sendable (GroupRecord, UserRecord) -> AuditEvent)
        async throws -> Bool
    {
        try await db.write { c in
            guard var (g, have) = try await Self.visible(id, p, c) else { return false }
            let user = try await PGCatalog.user(named: username, c)
            try authorize(g, have, user)
            guard let to = user else { throw StoreError(code: .notFound, message: "no user named '\(username)'") }
            g.ownerId = to.id
            try await c.update(g, in: "groups")
            try await log.append(audit(g, to), c)
            return true
        }
    }

    private static func visible(_ id: String, _ p: Principal, _ c: PGConnection) async throws -> (GroupRecord, Permission)? {
        guard let g = try await c.one(GroupRecord.self, "SELECT * FROM groups WHERE id = ?", [id]), let have = try await PGAccess.onGroup(g, p, c)
        else { return nil }
        return (g, have)
    }

    /// Every resource is checked before any is written.
    private static func setResources(_ g: GroupRecord, _ ids: [String], _ p: Principal, _ check: ResourceCheck, _ c: PGConnection) async throws {
        let unique = Set(ids).sorted()
        for id in unique {
            let r = try await c.one(ResourceRecord.self, "SELECT * FROM resources WHERE id = ?", [id])
            var have: Permission? = nil
            if let r { have = try await PGAccess.onResource(r, p, c) }
            try check(id, r?.name, have)
        }
        try await c.execute("DELETE FROM groupResources WHERE groupId = ?", [g.id])
        for id in unique { try await c.execute("INSERT INTO groupResources(groupId, resourceId) VALUES (?, ?)", [g.id, id]) }
    }

    private static func entry(_ g: GroupRecord, _ c: PGConnection) async throws -> GroupEntry {
        GroupEntry(group: g, owner: try await PGCatalog.username(g.ownerId, c),
            resourceIds: try await c.column(String.self, "SELECT resourceId FROM groupResources WHERE groupId = ? ORDER BY resourceId", [g.id]))
    }
}
