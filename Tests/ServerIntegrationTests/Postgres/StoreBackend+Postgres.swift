import Foundation
import Shared

@testable import Server
@testable import ServerTestSupport

extension StoreBackend {
    /// A fresh PostgreSQL database on the test server, migrated, its repositories and fixtures.
    static func postgres() async throws -> StoreBackend {
        let store = try await PGTestDatabase.store()
        let db = store.db
        let wiring = PGWiring(vault: Vault(masterKey: MasterKey.generate()), historyDepth: 10, node: PGNode(id: "test-node", version: "test"))
        let secrets = store.secrets(wiring)
        @Sendable func write(_ sql: String, _ values: [any PGBindable]) async throws {
            try await db.write { c in try await c.execute(sql, values) }
        }
        @Sendable func count(_ sql: String, _ values: [any PGBindable]) async throws -> Int {
            try await db.read { c in try await c.scalar(Int.self, sql, values) ?? 0 }
        }
        var b = StoreBackend(agents: store.agents, agentJobs: store.agentJobs, outbox: store.outbox, userGroups: store.userGroups,
            identities: store.identities, users: store.users, groups: store.groups, policies: store.policies, agentBindings: store.agentBindings,
            audit: store.audit, resources: store.resources, shares: store.shares, accounts: store.accounts, rotations: store.rotations,
            tasks: store.tasks(wiring), passwords: store.passwords(wiring), resetConfigs: store.resetConfigs, listeners: store.listeners(wiring),
            runs: store.runs(wiring), accountCreation: store.accountCreation(wiring), notificationSettings: store.notificationSettings(wiring),
            directory: store.directory(wiring),
            resetConfig: { rid, json in
                try await write("INSERT INTO resetConfigs(resourceId, json) VALUES (?, ?) ON CONFLICT (resourceId) DO UPDATE SET json = excluded.json",
                    [rid, json])
            },
            setPassword: { aid, password in
                try await db.write { c in try await secrets.setCurrent(password, account: aid, by: "test", at: Date(), c) }
            },
            addAccount: { rid, login in
                let id = newID()
                try await write("INSERT INTO accounts(id, resourceId, loginName, createdAt) VALUES (?, ?, ?, 0)", [id, rid, login])
                return id
            },
            queueReset: { rid, aid in
                try await write("""
                    INSERT INTO tasks(id, kind, state, phase, via, resourceId, accountId, host, requestedBy, createdAt)
                    VALUES (?, 'reset', 'queued', 'queued', 'plugin', ?, ?, 'h', 'root', 0)
                    """, [newID(), rid, aid])
            },
            agentMode: { rid, host in
                try await db.write { c in
                    try await c.execute("UPDATE resources SET dnsName = ? WHERE id = ?", [host, rid])
                    try await c.execute("INSERT INTO resetConfigs(resourceId, json) VALUES (?, '{\"mode\":\"agent\"}')", [rid])
                }
            },
            ownResource: { uid in
                let id = newID()
                try await write("INSERT INTO resources(id, name, dnsName, type, ownerId, createdAt, updatedAt) VALUES (?, ?, 'h', 'Linux', ?, 0, 0)",
                    [id, "r-" + id, uid])
                return id
            },
            share: { kind, oid, uid, permission in
                try await write("INSERT INTO shares(objectKind, objectId, principalKind, principalId, permission) VALUES (?, ?, 'user', ?, ?)",
                    [kind, oid, uid, permission])
            },
            objectShares: { kind, oid in try await count("SELECT COUNT(*) FROM shares WHERE objectKind = ? AND objectId = ?", [kind, oid]) },
            shareWithUser: { uid in
                try await write("INSERT INTO shares(objectKind, objectId, principalKind, principalId, permission) VALUES ('resource', ?, 'user', ?, 'view')",
                    [newID(), uid])
            },
            userShares: { uid in try await count("SELECT COUNT(*) FROM shares WHERE principalKind = 'user' AND principalId = ?", [uid]) },
            addUser: { id, name in
                try await write("INSERT INTO users(id, username, passwordHash, role, createdAt) VALUES (?, ?, 'x', 'passwordUser', 0)", [id, name])
            },
            setRole: { uid, role in try await write("UPDATE users SET role = ? WHERE id = ?", [role.rawValue, uid]) },
            shareWithGroup: { gid in
                try await write("""
                    INSERT INTO shares(objectKind, objectId, principalKind, principalId, permission) VALUES ('resource', ?, 'userGroup', ?, 'view')
                    """, [newID(), gid])
            },
            groupShares: { gid in try await count("SELECT COUNT(*) FROM shares WHERE principalKind = 'userGroup' AND principalId = ?", [gid]) },
            bind: { aid, rid in
                try await write("INSERT INTO agentBindings(resourceId, agentId, approvedBy, approvedAt) VALUES (?, ?, 'root', 0)", [rid, aid])
            },
            addAgent: { a in try await db.write { c in try await c.insert(a, into: "agents") } },
            auditOperations: { try await db.read { c in try await c.column(String.self, "SELECT operation FROM audit ORDER BY id") } },
            access: PGAccessStore(db: db, log: store.auditLog, notices: store.notices(wiring), queued: {}))
        b.auditPurge = PGAuditPurgeStore(db: db, log: store.auditLog)
        b.auditAlerts = PGAuditAlertStore(db: db, log: store.auditLog, notices: store.notices(wiring))
        b.reportSchedules = PGReportScheduleStore(db: db, log: store.auditLog, queued: {})
        b.auditVerify = { try await db.read { c in try await store.auditLog.verify(c) } }
        b.setSetting = { key, value in try await write("UPDATE settings SET value = ? WHERE key = ?", [value, key]) }
        b.auditKey = store.auditKey.key
        return b
    }
}
