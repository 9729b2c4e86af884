import Foundation
import GRDB
import Shared

@testable import Server
@testable import ServerTestSupport

/// A store backend under the conformance suites: its repositories and the fixtures the suites
/// need that no repository offers yet. PostgreSQL runs the suites of the repositories it has so
/// far (`PGStore.ported`); its other repositories are nil and no suite asks for them.
struct StoreBackend: Sendable {
    var agents: (any AgentStore)!
    var agentJobs: (any AgentJobStore)!
    var outbox: (any OutboxStore)!
    var userGroups: (any UserGroupStore)!
    var identities: (any IdentityStore)!
    var users: (any UserStore)!
    var groups: (any GroupStore)!
    var policies: (any PolicyStore)!
    var agentBindings: (any AgentBindingStore)!
    var audit: (any AuditStore)!
    var resources: (any ResourceStore)!
    var shares: (any ShareStore)!
    var accounts: (any AccountStore)!
    var rotations: (any RotationStore)!
    var tasks: (any TaskStore)!
    var passwords: (any PasswordStore)!
    var resetConfigs: (any ResetConfigStore)!
    var listeners: (any ListenerStore)!
    var runs: (any RunStore)!
    var accountCreation: (any AccountCreationStore)!
    var notificationSettings: (any NotificationSettingsStore)!
    var directory: (any DirectoryStore)!
    var vaultRecords: (any VaultStore)!
    /// Stores the resource's reset configuration (JSON, as the API takes it).
    var resetConfig: @Sendable (_ resourceID: String, _ json: String) async throws -> Void
    /// Sets the account's current password.
    var setPassword: @Sendable (_ accountID: String, _ password: Secret) async throws -> Void
    /// An account of the resource; a reset of it queued.
    var addAccount: @Sendable (_ resourceID: String, _ login: String) async throws -> String
    var queueReset: @Sendable (_ resourceID: String, _ accountID: String) async throws -> Void
    /// Puts the resource in agent mode with this host name.
    var agentMode: @Sendable (_ resourceID: String, _ host: String) async throws -> Void
    /// A resource owned by the user, and a share of it with the user; how many shares name the user.
    var ownResource: @Sendable (_ userID: String) async throws -> String
    /// A share of an object (`resource`, `group`, `account`) with a user.
    var share: @Sendable (_ kind: String, _ objectID: String, _ userID: String, _ permission: String) async throws -> Void
    /// How many shares name the object.
    var objectShares: @Sendable (_ kind: String, _ objectID: String) async throws -> Int
    var shareWithUser: @Sendable (_ userID: String) async throws -> Void
    var userShares: @Sendable (_ userID: String) async throws -> Int
    /// A user (users are not behind a repository yet).
    var addUser: @Sendable (_ id: String, _ username: String) async throws -> Void
    /// Gives the user a role (users are added as password users).
    var setRole: @Sendable (_ userID: String, _ role: Role) async throws -> Void
    /// A share of some resource with a user group, and how many shares name the group.
    var shareWithGroup: @Sendable (_ groupID: String) async throws -> Void
    var groupShares: @Sendable (_ groupID: String) async throws -> Int
    /// Binds the agent to the resource (as an administrator's approval would).
    var bind: @Sendable (_ agentID: String, _ resourceID: String) async throws -> Void
    /// An enrolled agent (enrollment is not behind a repository yet).
    var addAgent: @Sendable (AgentRecord) async throws -> Void
    /// The operations of the audit records, oldest first.
    var auditOperations: @Sendable () async throws -> [String]
    var access: (any AccessStore)! = nil
    var auditPurge: (any AuditPurgeStore)! = nil
    var auditAlerts: (any AuditAlertStore)! = nil
    var reportSchedules: (any ReportScheduleStore)! = nil
    /// Walks the audit chain (from its checkpoint), and overwrites a setting (to forge one).
    var auditVerify: (@Sendable () async throws -> AuditVerifier.Result)! = nil
    var setSetting: (@Sendable (_ key: String, _ value: String) async throws -> Void)! = nil
    var auditKey: Data? = nil

    static let names = ["sqlite"]

    /// The backends whose `repository` exists: SQLite's all do, PostgreSQL's as they are ported.
    static func names(_ repository: String) -> [String] {
        PGStore.ported.contains(repository) ? ["sqlite", "postgres"] : ["sqlite"]
    }

    static func make(_ name: String) async throws -> StoreBackend {
        switch name {
        case "sqlite":
            let custody = try await Harness.make().custody
            let store = custody.store
            var b = StoreBackend(agents: store.agents, agentJobs: store.agentJobs, outbox: store.outbox, userGroups: store.userGroups,
                identities: store.identities, users: store.users, groups: store.groups, policies: store.policies,
                agentBindings: store.agentBindings, audit: store.audit, resources: store.resources, shares: store.shares, accounts: store.accounts, rotations: store.rotations,
                tasks: custody.engine.store,
                passwords: custody.passwords.store,
                resetConfigs: custody.resetConfigs.store,
                listeners: custody.listeners.store,
                runs: custody.rotationRuns.store,
                accountCreation: custody.accountCreation.store,
                notificationSettings: custody.notificationSettings.store,
                directory: custody.directory.store,
                vaultRecords: store.vaultRecords,
                resetConfig: { rid, json in
                    try await store.write { db in
                        try db.execute(sql: "INSERT OR REPLACE INTO resetConfigs(resourceId, json) VALUES (?, ?)", arguments: [rid, json])
                    }
                },
                setPassword: { aid, password in
                    try await store.write { db in try custody.secrets.setCurrent(password, account: aid, by: "test", at: Date(), db) }
                },
                addAccount: { rid, login in
                    let id = newID()
                    try await store.write { db in
                        try db.execute(sql: "INSERT INTO accounts(id, resourceId, loginName, createdAt) VALUES (?, ?, ?, 0)", arguments: [id, rid, login])
                    }
                    return id
                },
                queueReset: { rid, aid in
                    try await store.write { db in
                        try db.execute(sql: """
                            INSERT INTO tasks(id, kind, state, phase, via, resourceId, accountId, host, requestedBy, createdAt)
                            VALUES (?, 'reset', 'queued', 'queued', 'plugin', ?, ?, 'h', 'root', 0)
                            """, arguments: [newID(), rid, aid])
                    }
                },
                agentMode: { rid, host in
                    try await store.write { db in
                        try db.execute(sql: "UPDATE resources SET dnsName = ? WHERE id = ?", arguments: [host, rid])
                        try db.execute(sql: "INSERT INTO resetConfigs(resourceId, json) VALUES (?, '{\"mode\":\"agent\"}')", arguments: [rid])
                    }
                },
                ownResource: { uid in
                    let id = newID()
                    try await store.write { db in
                        try db.execute(sql: """
                            INSERT INTO resources(id, name, dnsName, type, ownerId, createdAt, updatedAt) VALUES (?, ?, 'h', 'Linux', ?, 0, 0)
                            """, arguments: [id, "r-" + id, uid])
                    }
                    return id
                },
                share: { kind, oid, uid, permission in
                    try await store.write { db in
                        try db.execute(sql: """
                            INSERT INTO shares(objectKind, objectId, principalKind, principalId, permission) VALUES (?, ?, 'user', ?, ?)
                            """, arguments: [kind, oid, uid, permission])
                    }
                },
                objectShares: { kind, oid in
                    try await store.read { db in
                        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM shares WHERE objectKind = ? AND objectId = ?", arguments: [kind, oid]) ?? 0
                    }
                },
                shareWithUser: { uid in
                    try await store.write { db in
                        try db.execute(sql: """
                            INSERT INTO shares(objectKind, objectId, principalKind, principalId, permission) VALUES ('resource', ?, 'user', ?, 'view')
                            """, arguments: [newID(), uid])
                    }
                },
                userShares: { uid in
                    try await store.read { db in
                        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM shares WHERE principalKind = 'user' AND principalId = ?", arguments: [uid]) ?? 0
                    }
                },
                addUser: { id, name in
                    try await store.write { db in
                        try db.execute(sql: "INSERT INTO users(id, username, passwordHash, role, createdAt) VALUES (?, ?, 'x', 'passwordUser', 0)",
                            arguments: [id, name])
                    }
                },
                setRole: { uid, role in
                    try await store.write { db in try db.execute(sql: "UPDATE users SET role = ? WHERE id = ?", arguments: [role.rawValue, uid]) }
                },
                shareWithGroup: { gid in
                    try await store.write { db in
                        try db.execute(sql: """
                            INSERT INTO shares(objectKind, objectId, principalKind, principalId, permission) VALUES ('resource', ?, 'userGroup', ?, 'view')
                            """, arguments: [newID(), gid])
                    }
                },
                groupShares: { gid in
                    try await store.read { db in
                        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM shares WHERE principalKind = 'userGroup' AND principalId = ?", arguments: [gid]) ?? 0
                    }
                },
                bind: { aid, rid in
                    try await store.write { db in
                        try db.execute(sql: "INSERT INTO agentBindings(resourceId, agentId, approvedBy, approvedAt) VALUES (?, ?, 'root', 0)",
                            arguments: [rid, aid])
                    }
                },
                addAgent: { a in try await store.write { db in try a.insert(db) } },
                auditOperations: { try await store.read { db in try String.fetchAll(db, sql: "SELECT operation FROM audit ORDER BY id") } })
            b.access = custody.access.store
            b.auditPurge = SQLiteAuditPurgeStore(db: store.db)
            b.auditAlerts = custody.auditAlerts.store
            b.reportSchedules = SQLiteReportScheduleStore(db: store.db, queued: {})
            b.auditVerify = { try await store.read { try AuditVerifier.verify($0) } }
            b.setSetting = { key, value in
                try await store.write { db in try db.execute(sql: "UPDATE settings SET value = ? WHERE key = ?", arguments: [value, key]) }
            }
            b.auditKey = store.auditKey.key
            return b
        case "postgres": return try await postgres()
        default: throw StoreError(code: .notFound, message: "no backend \(name)")
        }
    }

    /// An agent enrolled at `t`, its keys fixed bytes (the stores never check them).
    static func agent(_ id: String, host: String = "web01", at t: Date, revoked: Date? = nil) -> AgentRecord {
        AgentRecord(id: id, hostname: host, os: "linux", arch: "x86_64", version: "1", signingKey: Data(repeating: 1, count: 32),
            sealingKey: Data(repeating: 2, count: 32), resourceId: nil, enrolledAt: t.seconds, lastSeenAt: t.seconds,
            revokedAt: revoked?.seconds)
    }

    static func job(_ id: String, agent: String, at t: Date, queueFor: TimeInterval = 600) -> AgentJobRow {
        AgentJobRow(id: id, agentId: agent, operation: "reset", encapsulatedKey: Data([7]), ciphertext: Data([8, 9]), createdAt: t,
            queueDeadline: t.addingTimeInterval(queueFor))
    }
}
