import Foundation
import GRDB

/// `AccountStore` on SQLite: table `accounts` (secrets go with an account by `ON DELETE CASCADE`;
/// shares are removed here), visibility through `Access`.
struct SQLiteAccountStore: AccountStore {
    let db: DatabasePool

    func accounts(of resourceID: String, visibleTo p: Principal, _ filter: AccountFilter, _ page: PageRequest,
        authorize: @Sendable (Permission) throws -> Void) async throws -> Page<AccountRecord>?
    {
        try await db.read { db in
            guard let r = try ResourceRecord.fetchOne(db, key: resourceID) else { return nil }
            if let whole = try Access.onResource(r, p, db) {
                try authorize(whole)
                let q = AccountListQuery(resourceID: r.id, filter, page, .sqlite)
                let rows = try db.list(q.sql, StatementArguments(q.arguments), AccountRecord.rowColumns, AccountRecord.init)
                return Page(fetched: rows, page, cursor: AccountListQuery.cursor)
            }
            let ids = try String.fetchAll(db, sql: "SELECT id FROM accounts WHERE resourceId = ?", arguments: [r.id])
            guard try Access.grant(.account, ids, p, groups: try Access.userGroupIDs(p.userID, db), db) != nil else { return nil }
            try authorize(.view)
            return Page.slice(try Access.visibleAccounts(of: r, p, db).filter(filter.matches), page, key: \.loginName, id: \.id)
        }
    }

    func account(_ accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void)
        async throws -> AccountRecord?
    {
        try await db.read { db in
            guard let (_, a, have) = try Self.visible(accountID, resourceID, p, db) else { return nil }
            try authorize(have)
            return a
        }
    }

    func permission(on accountID: String, of resourceID: String, visibleTo p: Principal) async throws -> Permission? {
        try await db.read { db in try Self.visible(accountID, resourceID, p, db)?.2 }
    }

    func update(_ accountID: String, of resourceID: String, by p: Principal,
        _ change: @Sendable (AccountRecord, Permission) throws -> AccountRecord,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent) async throws -> AccountRecord?
    {
        try await db.write { db in
            guard let (r, stored, have) = try Self.visible(accountID, resourceID, p, db) else { return nil }
            let a = try change(stored, have)
            try a.update(db)
            try AuditLog.append(audit(r, a), in: db)
            return a
        }
    }

    func delete(_ accountID: String, of resourceID: String, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent) async throws -> Bool
    {
        try await db.write { db in
            guard let (r, a, have) = try Self.visible(accountID, resourceID, p, db) else { return false }
            try authorize(have)
            if try TaskRecord.resetUnderWay(a.id, db) {
                throw DomainError(.conflict, "reset_in_progress", "a reset of this account is under way: deleting the account waits until it has ended")
            }
            try db.execute(sql: "DELETE FROM shares WHERE objectKind = 'account' AND objectId = ?", arguments: [a.id])
            _ = try a.delete(db)
            try AuditLog.append(audit(r, a), in: db)
            return true
        }
    }

    func syncReported(by agentID: String, plan: @Sendable (ResourceRecord, ResetConfig, [AccountRecord]) -> AccountSyncPlan) async throws {
        try await db.write { db in
            let resources = try ResourceRecord.fetchAll(db, sql: """
                SELECT r.* FROM resources r JOIN agentBindings b ON b.resourceId = r.id WHERE b.agentId = ? ORDER BY r.name
                """, arguments: [agentID])
            for r in resources {
                guard let config = try ResetConfig.stored(for: r.id, db), config.mode == .agent, try SQLiteTaskStore.boundAgent(r.id, db) == agentID
                else { continue }
                let p = plan(r, config, try AccountRecord.filter(Column("resourceId") == r.id).fetchAll(db))
                for (a, e) in p.add {
                    try a.insert(db)
                    try AuditLog.append(e, in: db)
                }
                for (a, e) in p.update {
                    try a.update(db)
                    try AuditLog.append(e, in: db)
                }
            }
        }
    }

    static func visible(_ accountID: String, _ resourceID: String, _ p: Principal, _ db: Database)
        throws -> (ResourceRecord, AccountRecord, Permission)?
    {
        // Every retrieval asks: statements prepared once per connection, rows read by position.
        guard let r = try db.list("SELECT * FROM resources WHERE id = ?", [resourceID], ResourceRecord.rowColumns, ResourceRecord.init).first,
            let a = try db.list("SELECT * FROM accounts WHERE id = ?", [accountID], AccountRecord.rowColumns, AccountRecord.init).first,
            a.resourceId == r.id,
            let have = try Access.onAccount(a, resource: r, p, db)
        else { return nil }
        return (r, a, have)
    }
}
