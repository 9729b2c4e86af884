import Foundation
import GRDB
import Shared

/// `PasswordStore` on SQLite: `secrets` through `SecretStore`, visibility through `Access`.
struct SQLitePasswordStore: PasswordStore {
    let db: DatabasePool
    let appends: GroupCommit<AuditedUnit>
    let secrets: SecretStore
    let notices: SQLiteNotices
    let listeners: SQLiteListenerQueue

    func retrieve(_ accountID: String, of resourceID: String, visibleTo p: Principal,
        gate: (@Sendable (AccessGateFacts) throws -> AccessRequestRecord?)?, authorize: @escaping @Sendable (Permission) throws -> Void,
        check: @escaping @Sendable (Bool) throws -> Void, audit: @escaping @Sendable (ResourceRecord, AccountRecord, Int, AccessRequestRecord?) -> AuditEvent)
        async throws -> Retrieval
    {
        // One transaction with its audit record, shared with the retrievals beside it (group commit):
        // the password is answered only once its record has committed.
        try await appends.perform { [secrets] db -> (Retrieval, AuditEvent?) in
            guard let (r, a, have) = try SQLiteAccountStore.visible(accountID, resourceID, p, db) else { return (.notVisible, nil) }
            var held: AccessRequestRecord? = nil
            if let gate {
                let (enabled, holders) = try SQLiteAccessStore.gateFacts(account: a.id, resource: r.id, db)
                held = try gate(AccessGateFacts(enabled: enabled, holders: holders, permission: have))
            }
            try authorize(have)
            try check(try Settings.get(Settings.requireReason, db) == "true")
            let current = try secrets.current(account: a.id, db)
            let candidates = try secrets.candidates(account: a.id, db)
            // No password known yet: a first reset's candidates are still worth retrieving.
            guard current != nil || !candidates.isEmpty else { return (.noPassword, nil) }
            return (.found(Retrieved(current: current, candidates: candidates)), audit(r, a, candidates.count, held))
        }
    }

    func changeLocally(_ accountID: String, of resourceID: String, visibleTo p: Principal, at: Date,
        authorize: @Sendable (Permission) throws -> Void, decide: @Sendable (LocalChangeFacts) throws -> Secret, listenerTrigger: String,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent, notice: @Sendable (ResourceRecord, AccountRecord) -> Notice)
        async throws -> Bool
    {
        try await db.write { [secrets, listeners, notices] db in
            guard let (r, a, have) = try SQLiteAccountStore.visible(accountID, resourceID, p, db) else { return false }
            try authorize(have)
            if try TaskRecord.resetUnderWay(a.id, db) {
                throw DomainError(.conflict, "reset_in_progress", "a reset of this account is under way: a local change waits until it has ended")
            }
            let policy = try Catalog.effectivePolicy(for: r, db)
            let recent = policy.historyDepth > 0 ? try secrets.recent(account: a.id, depth: policy.historyDepth - 1, db) : []
            let new = try decide(LocalChangeFacts(resource: r, account: a, policy: policy, recent: recent))
            let old = try secrets.current(account: a.id, db)
            let event = audit(r, a)
            try secrets.setCurrent(new, account: a.id, by: p.username, at: at, keep: policy.historyDepth, ip: event.ip, db)
            try listeners.queue(r, a, old: old, new: new, trigger: listenerTrigger, db)
            try db.execute(sql: "UPDATE accounts SET lastChangedAt = ? WHERE id = ?", arguments: [at.seconds, a.id])
            try AuditLog.append(event, in: db)
            try notices.queue(notice(r, a), db)
            return true
        }
    }

    func history(_ accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void,
        reveal: (@Sendable (ResourceRecord, AccountRecord, Int) -> AuditEvent)?) async throws -> [PasswordVersion]?
    {
        let body: @Sendable (Database) throws -> [PasswordVersion]? = { [secrets] db in
            guard let (r, a, have) = try SQLiteAccountStore.visible(accountID, resourceID, p, db) else { return nil }
            try authorize(have)
            let rows = try Row.fetchAll(db, sql: """
                SELECT s.id, s.state, s.createdAt, s.createdBy, s.ip, s.sealed, t.id AS taskId, t.rotationRunId, t.requestedBy, t.requestedById,
                  t.reconcileAttempts
                FROM secrets s LEFT JOIN tasks t ON t.id = s.taskId
                WHERE s.accountId = ? AND s.state IN ('current', 'history')
                ORDER BY s.state = 'current' DESC, s.createdAt DESC, s.rowid DESC
                """, arguments: [a.id])
            var out: [PasswordVersion] = []
            for row in rows {
                var origin: PasswordVersion.Origin? = nil
                if let task: String = row["taskId"] {
                    let queued = try Row.fetchOne(db, sql: """
                        SELECT operation, ip, message FROM audit WHERE accountId = ? AND operation IN ('queue_reset', 'checkin_password') AND message LIKE ? ORDER BY id LIMIT 1
                        """, arguments: [a.id, "%task \(task)%"])
                    let attempts: Int? = row["reconcileAttempts"]
                    let requestedBy: String = row["requestedBy"]
                    var by: (operation: String, ip: String, message: String)? = nil
                    if let q = queued {
                        let message: String? = q["message"]
                        by = (q["operation"], q["ip"], message ?? "")
                    }
                    origin = .init(taskId: task, rotationRunId: row["rotationRunId"], requestedBy: requestedBy, requestedById: row["requestedById"],
                        reconcileAttempts: attempts ?? 0, queuedBy: by)
                }
                let at = Date(timeIntervalSince1970: row["createdAt"])
                let (how, ip) = PasswordVersion.classify(origin, createdAt: at, accountCreatedAt: a.createdAt, ip: row["ip"])
                var v = PasswordVersion(id: row["id"], current: row["state"] == "current", createdAt: at, by: row["createdBy"], how: how, ip: ip,
                    taskId: origin?.taskId)
                if reveal != nil {
                    v.password = try secrets.vault.openSecret(row["sealed"], identity: Vault.secretIdentity(secretID: v.id, accountID: a.id))
                }
                out.append(v)
            }
            if let reveal { try AuditLog.append(reveal(r, a, out.count), in: db) }
            return out
        }
        return reveal == nil ? try await db.read(body) : try await db.write(body)
    }

    func policy(ofAccount accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void)
        async throws -> (AccountRecord, PasswordPolicy)?
    {
        try await db.read { db in
            guard let (r, a, have) = try SQLiteAccountStore.visible(accountID, resourceID, p, db) else { return nil }
            try authorize(have)
            return (a, try Catalog.effectivePolicy(for: r, db))
        }
    }
}
