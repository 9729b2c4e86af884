import Foundation
import Logging

/// The repositories on PostgreSQL, for a cluster of nodes sharing one database. Those listed in
/// `ported` exist so far; the rest of the server still needs SQLite (docs/postgres.md).
struct PGStore: Sendable {
    let db: PGDatabase
    /// The audit chain's HMAC key, unsealed from the vault at start.
    let auditKey: AuditKeyBox

    var auditLog: PGAuditLog { PGAuditLog(keys: auditKey) }
    var audit: any AuditStore { PGAuditStore(db: db, log: auditLog) }
    var agents: any AgentStore { PGAgentStore(db: db, log: auditLog) }
    var users: any UserStore { PGUserStore(db: db, log: auditLog) }
    var agentJobs: any AgentJobStore { PGAgentJobStore(db: db) }
    var identities: any IdentityStore { PGIdentityStore(db: db, log: auditLog) }
    var vaultRecords: PGVaultRecords { PGVaultRecords(db: db) }
    var outbox: any OutboxStore { PGOutboxStore(db: db, log: auditLog) }
    var userGroups: any UserGroupStore { PGUserGroupStore(db: db, log: auditLog) }
    var groups: any GroupStore { PGGroupStore(db: db, log: auditLog) }
    var policies: any PolicyStore { PGPolicyStore(db: db, log: auditLog) }
    var agentBindings: any AgentBindingStore { PGAgentBindingStore(db: db, log: auditLog) }
    var resources: any ResourceStore { PGResourceStore(db: db, log: auditLog) }
    var shares: any ShareStore { PGShareStore(db: db, log: auditLog) }
    var accounts: any AccountStore { PGAccountStore(db: db, log: auditLog) }
    var rotations: any RotationStore { PGRotationStore(db: db, log: auditLog) }
    var resetConfigs: any ResetConfigStore { PGResetConfigStore(db: db, log: auditLog) }

    /// The repositories with a PostgreSQL implementation, by their `StoreBackend` names.
    static let ported: Set<String> = [
        "audit", "agents", "agentJobs", "users", "identities", "outbox", "userGroups", "groups", "policies", "agentBindings", "resources",
        "shares", "accounts", "rotations", "resetConfigs", "tasks", "passwords", "listeners", "runs", "accountCreation",
        "notificationSettings", "directory", "access",
    ]

    /// Opens the database, brings its schema up to date (once across the nodes) and seeds the
    /// built-in policies and resource types (idempotent, as at every SQLite start).
    static func open(_ db: PGDatabase, auditKey: AuditKeyBox = AuditKeyBox()) async throws -> PGStore {
        try await PGMigrations.migrate(db)
        try await db.write { c in try await PGCatalog.seed(c) }
        return PGStore(db: db, auditKey: auditKey)
    }
}

/// `AuditStore` on PostgreSQL.
struct PGAuditStore: AuditStore {
    let db: PGDatabase
    let log: PGAuditLog

    func append(_ event: AuditEvent) async throws {
        try await db.write { c in try await log.append(event, c) }
    }

    func entries(_ q: AuditLog.Query, visibleTo p: Principal) async throws -> [AuditEntry] {
        try await db.read { c in
            let scope = try await ListScope.of(p, c)
            var sql = "SELECT * FROM audit WHERE TRUE"
            var args: [any PGBindable] = []
            if let r = q.resourceId { sql += " AND resourceId = ?"; args.append(r) }
            if let a = q.accountId { sql += " AND accountId = ?"; args.append(a) }
            if let s = q.since { sql += " AND at >= ?"; args.append(s) }
            if let u = q.user { sql += " AND \"user\" = ?"; args.append(u) }
            if let o = q.operation { sql += " AND operation = ?"; args.append(o) }
            if let b = q.beforeID { sql += " AND id < ?"; args.append(Int(b)) }
            if let a = q.afterID { sql += " AND id > ?"; args.append(Int(a)) }
            if let u = q.until { sql += " AND at < ?"; args.append(u) }
            if !scope.everything {
                let whole = Array(scope.resources), accounts = Array(scope.accounts)
                sql += " AND (\"user\" = ? OR (accountId IS NULL AND resourceId IN (\(PGStatement.marks(whole.count))))"
                    + " OR accountId IN (\(PGStatement.marks(accounts.count))))"
                args.append(scope.username)
                args += whole
                args += accounts
            }
            sql += q.oldestFirst ? " ORDER BY id LIMIT ?" : " ORDER BY id DESC LIMIT ?"
            args.append(q.limit)
            return try await c.all(AuditEntry.self, sql, args)
        }
    }
}
