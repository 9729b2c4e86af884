import Foundation

/// `ResourceStore` on PostgreSQL: table `resources` (accounts, secrets and bindings go with a
/// resource by `ON DELETE CASCADE`; shares are removed here), permissions through `PGAccess`.
struct PGResourceStore: ResourceStore {
    let db: PGDatabase
    let log: PGAuditLog

    func resources(visibleTo p: Principal, _ filter: ResourceFilter, _ page: PageRequest) async throws -> Page<ResourceEntry> {
        try await db.read { c in try await Self.page(p, filter, page, c) }
    }

    static func page(_ p: Principal, _ filter: ResourceFilter, _ page: PageRequest, _ c: PGConnection) async throws -> Page<ResourceEntry> {
        let groups = p.superAdmin ? [] : try await PGAccess.userGroupIDs(p.userID, c)
        let q = ResourceListQuery(p, userGroups: groups, filter, page, .postgres)
        let entries = try await c.rows(q.sql, q.arguments).map { row in
            ResourceEntry(resource: try row.decode(ResourceRecord.self), owner: try row["ownerName", as: String?.self] ?? "(deleted)")
        }
        return Page(fetched: entries, page, cursor: ResourceListQuery.cursor)
    }

    func resource(_ id: String, visibleTo p: Principal, viaAccounts: Bool) async throws -> (entry: ResourceEntry, permission: Permission)? {
        try await db.read { c in
            guard let (r, have) = try await Self.visible(id, p, viaAccounts: viaAccounts, c) else { return nil }
            return (try await Self.entry(r, c), have)
        }
    }

    func create(_ r: ResourceRecord, audit: AuditEvent) async throws {
        try await db.write { c in
            try await PGCatalog.requireType(r.type, c)
            if let pol = r.passwordPolicy { _ = try await PGCatalog.policy(named: pol, c) }
            if try await c.scalar(Int.self, "SELECT 1 FROM resources WHERE name = ?", [r.name]) != nil {
                throw StoreError(code: .conflict, message: "a resource named '\(r.name)' exists")
            }
            try await c.insert(r, into: "resources")
            try await log.append(audit, c)
        }
    }

    func update(_ id: String, by p: Principal, _ change: @Sendable (ResourceRecord, Permission) throws -> ResourceRecord,
        audit: @Sendable (ResourceRecord) -> AuditEvent) async throws -> ResourceEntry?
    {
        try await db.write { c in
            guard let (stored, have) = try await Self.visible(id, p, viaAccounts: false, c) else { return nil }
            let r = try change(stored, have)
            if r.type != stored.type { try await PGCatalog.requireType(r.type, c) }
            if let pol = r.passwordPolicy, pol != stored.passwordPolicy { _ = try await PGCatalog.policy(named: pol, c) }
            try await c.update(r, in: "resources")
            try await log.append(audit(r), c)
            return try await Self.entry(r, c)
        }
    }

    func delete(_ id: String, by p: Principal, authorize: @Sendable (ResourceRecord, Permission) throws -> Void,
        audit: @Sendable (ResourceRecord, _ accounts: Int) -> AuditEvent) async throws -> Bool
    {
        try await db.write { c in
            guard let (r, have) = try await Self.visible(id, p, viaAccounts: false, c) else { return false }
            try authorize(r, have)
            let accountIDs = try await c.column(String.self, "SELECT id FROM accounts WHERE resourceId = ?", [r.id])
            for a in accountIDs where try await PGQueries.resetUnderWay(a, c) {
                throw DomainError(.conflict, "reset_in_progress", "a reset of this account is under way: deleting the resource waits until it has ended")
            }
            try await c.execute("DELETE FROM shares WHERE objectKind = 'resource' AND objectId = ?", [r.id])
            for a in accountIDs { try await c.execute("DELETE FROM shares WHERE objectKind = 'account' AND objectId = ?", [a]) }
            try await c.execute("DELETE FROM resources WHERE id = ?", [r.id])
            try await log.append(audit(r, accountIDs.count), c)
            return true
        }
    }

    func transfer(_ id: String, to username: String, by p: Principal,
        authorize: @Sendable (ResourceRecord, Permission, UserRecord?) throws -> Void,
        audit: @Sendable (ResourceRecord, UserRecord) -> AuditEvent) async throws -> Bool
    {
        try await db.write { c in
            guard var (r, have) = try await Self.visible(id, p, viaAccounts: false, c) else { return false }
            let user = try await PGCatalog.user(named: username, c)
            try authorize(r, have, user)
            guard let to = user else { throw StoreError(code: .notFound, message: "no user named '\(username)'") }
            r.ownerId = to.id
            try await c.update(r, in: "resources")
            try await log.append(audit(r, to), c)
            return true
        }
    }

    private static func visible(_ id: String, _ p: Principal, viaAccounts: Bool, _ c: PGConnection) async throws -> (ResourceRecord, Permission)? {
        guard let r = try await PGQueries.resource(id, c) else { return nil }
        if let have = try await PGAccess.onResource(r, p, c) { return (r, have) }
        guard viaAccounts else { return nil }
        let ids = try await c.column(String.self, "SELECT id FROM accounts WHERE resourceId = ?", [r.id])
        return try await PGAccess.grant(.account, ids, p, groups: try await PGAccess.userGroupIDs(p.userID, c), c) != nil ? (r, .view) : nil
    }

    private static func entry(_ r: ResourceRecord, _ c: PGConnection) async throws -> ResourceEntry {
        ResourceEntry(resource: r, owner: try await PGCatalog.username(r.ownerId, c))
    }
}
