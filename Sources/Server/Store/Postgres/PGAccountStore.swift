import Foundation

/// `AccountStore` on PostgreSQL: table `accounts` (secrets go with an account by `ON DELETE
/// CASCADE`; shares are removed here), visibility through `PGAccess`.
struct PGAccountStore: AccountStore {
    let db: PGDatabase
    let log: PGAuditLog

    func accounts(of resourceID: String, visibleTo p: Principal, _ filter: AccountFilter, _ page: PageRequest,
        authorize: @Sendable (Permission) throws -> Void) async throws -> Page<AccountRecord>?
    {
        try await db.read { c in
            guard let r = try await PGQueries.resource(resourceID, c) else { return nil }
            if let whole = try await PGAccess.onResource(r, p, c) {
                try authorize(whole)
                let q = AccountListQuery(resourceID: r.id, filter, page, .postgres)
                return Page(fetched: try await c.all(AccountRecord.self, q.sql, q.arguments), page, cursor: AccountListQuery.cursor)
            }
            let ids = try await c.column(String.self, "SELECT id FROM accounts WHERE resourceId = ?", [r.id])
            guard try await PGAccess.grant(.account, ids, p, groups: try await PGAccess.userGroupIDs(p.userID, c), c) != nil else { return nil }
            try authorize(.view)
            return Page.slice(try await PGAccess.visibleAccounts(of: r, p, c).filter(filter.matches), page, key: \.loginName, id: \.id)
        }
    }

    func account(_ accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void)
        async throws -> AccountRecord?
    {
        try await db.read { c in
            guard let (_, a, have) = try await Self.visible(accountID, resourceID, p, c) else { return nil }
            try authorize(have)
            return a
        }
    }

    func permission(on accountID: String, of resourceID: String, visibleTo p: Principal) async throws -> Permission? {
        try await db.read { c in try await Self.visible(accountID, resourceID, p, c)?.2 }
    }

    func update(_ accountID: String, of resourceID: String, by p: Principal,
        _ change: @Sendable (AccountRecord, Permission) throws -> AccountRecord,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent) async throws -> AccountRecord?
    {
        try await db.write { c in
            guard let (r, stored, have) = try await Self.visible(accountID, resourceID, p, c) else { return nil }
            let a = try change(stored, have)
            try await c.update(a, in: "accounts")
            try await log.append(audit(r, a), c)
            return a
        }
    }

    func delete(_ accountID: String, of resourceID: String, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent) async throws -> Bool
    {
        try await db.write { c in
            guard let (r, a, have) = try await Self.visible(accountID, resourceID, p, c) else { return false }
            try authorize(have)
            if try await PGQueries.resetUnderWay(a.id, c) {
                throw DomainError(.conflict, "reset_in_progress", "a reset of this account is under way: deleting the account waits until it has ended")
            }
            try await c.execute("DELETE FROM shares WHERE objectKind = 'account' AND objectId = ?", [a.id])
            try await c.execute("DELETE FROM accounts WHERE id = ?", [a.id])
            try await log.append(audit(r, a), c)
            return true
        }
    }

    func syncReported(by agentID: String, plan: @Sendable (ResourceRecord, ResetConfig, [AccountRecord]) -> AccountSyncPlan) async throws {
        try await db.write { c in
            let resources = try await c.all(ResourceRecord.self, """
                SELECT r.* FROM resources r JOIN agentBindings b ON b.resourceId = r.id WHERE b.agentId = ? ORDER BY r.name
                """, [agentID])
            for r in resources {
                guard let config = try await PGQueries.resetConfig(for: r.id, c), config.mode == .agent,
                    try await PGQueries.boundAgent(r.id, c) == agentID
                else { continue }
                let p = plan(r, config, try await c.all(AccountRecord.self, "SELECT * FROM accounts WHERE resourceId = ?", [r.id]))
                for (a, e) in p.add {
                    try await c.insert(a, into: "accounts")
                    try await log.append(e, c)
                }
                for (a, e) in p.update {
                    try await c.update(a, in: "accounts")
                    try await log.append(e, c)
                }
            }
        }
    }

    static func visible(_ accountID: String, _ resourceID: String, _ p: Principal, _ c: PGConnection) async throws
        -> (ResourceRecord, AccountRecord, Permission)?
    {
        guard let r = try await PGQueries.resource(resourceID, c), let a = try await PGQueries.account(accountID, c), a.resourceId == r.id,
            let have = try await PGAccess.onAccount(a, resource: r, p, c)
        else { return nil }
        return (r, a, have)
    }
}
