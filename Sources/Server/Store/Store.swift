import Foundation
import GRDB

/// The one narrow interface over persistence. SQLite (WAL) through GRDB today; every query
/// lives in a `Store+Feature.swift` extension so a second backend replaces this type only.
struct Store: Sendable {
    let db: DatabasePool
    /// The audit chain's HMAC key, unsealed from the vault at start; SQL reads it as `custody_audit_key()`.
    let auditKey: AuditKeyBox
    /// Retrievals and audit records that stand alone are committed in groups.
    let appends: GroupCommit<AuditedUnit>
    /// Bearer tokens' callers, emptied by any change to tokens or users (but a session's last use).
    let tokens: ObservedCache<TokenRecord.WithUser>
    /// Agents by id, and ids known to be no agent (a smaller cache: a flood of made-up ids does
    /// not push the real agents out), emptied by any change to agents but their last contact.
    let agentCache: ObservedCache<AgentRecord>
    let unknownAgents: ObservedCache<Bool>

    /// `migrate: false` opens a live vault beside its server without touching its schema.
    static func open(path: String, migrate: Bool = true) throws -> Store {
        let box = AuditKeyBox()
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA secure_delete = ON")
            db.add(function: DatabaseFunction("custody_audit_key", argumentCount: 0, pure: false) { _ in box.key })
        }
        let pool = try DatabasePool(path: path, configuration: config)
        if migrate { try Migrations.migrator.migrate(pool) }
        let tokens = ObservedCache<TokenRecord.WithUser>(tables: ["tokens", "users"], ignoring: ["lastUsedAt"])
        let agents = ObservedCache<AgentRecord>(tables: ["agents"], ignoring: ["lastSeenAt"])
        let unknown = ObservedCache<Bool>(tables: ["agents"], ignoring: ["lastSeenAt"], capacity: 4096)
        for cache in [tokens, agents, unknown] as [any TransactionObserver] { pool.add(transactionObserver: cache, extent: .databaseLifetime) }
        return Store(db: pool, auditKey: box, appends: .audited(pool), tokens: tokens, agentCache: agents, unknownAgents: unknown)
    }

    var agents: any AgentStore { SQLiteAgentStore(db: db, appends: appends, cache: agentCache, unknown: unknownAgents) }
    var agentJobs: any AgentJobStore { SQLiteAgentJobStore(db: db) }
    var outbox: any OutboxStore { SQLiteOutboxStore(db: db) }
    var userGroups: any UserGroupStore { SQLiteUserGroupStore(db: db) }
    var identities: any IdentityStore { SQLiteIdentityStore(db: db, tokens: tokens) }
    var users: any UserStore { SQLiteUserStore(db: db) }
    var groups: any GroupStore { SQLiteGroupStore(db: db) }
    var policies: any PolicyStore { SQLitePolicyStore(db: db) }
    var agentBindings: any AgentBindingStore { SQLiteAgentBindingStore(db: db) }
    var audit: any AuditStore { SQLiteAuditStore(db: db, appends: appends) }
    var resources: any ResourceStore { SQLiteResourceStore(db: db) }
    var shares: any ShareStore { SQLiteShareStore(db: db) }
    var accounts: any AccountStore { SQLiteAccountStore(db: db) }
    var rotations: any RotationStore { SQLiteRotationStore(db: db) }
    var vaultRecords: any VaultStore { SQLiteVaultStore(db: db) }

    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await db.read(body)
    }

    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await db.write(body)
    }
}

/// Text ids: random UUIDs, lowercase.
func newID() -> String { UUID().uuidString.lowercased() }

extension Date {
    var seconds: Double { timeIntervalSince1970 }
}

/// Holds the audit key for the store's connections.
final class AuditKeyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Data?
    var key: Data? { lock.withLock { value } }
    func set(_ key: Data) { lock.withLock { value = key } }
}
