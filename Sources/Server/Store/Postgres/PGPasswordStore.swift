import Foundation
import Shared

/// `PasswordStore` on PostgreSQL: `secrets` through `PGSecretStore`, visibility through `PGAccess`.
struct PGPasswordStore: PasswordStore {
    let db: PGDatabase
    let log: PGAuditLog
    let secrets: PGSecretStore
    let notices: PGNotices
    let listeners: PGListenerQueue

    func retrieve(_ accountID: String, of resourceID: String, visibleTo p: Principal,
        gate: (@Sendable (AccessGateFacts) throws -> AccessRequestRecord?)?, authorize: @escaping @Sendable (Permission) throws -> Void,
        check: @escaping @Sendable (Bool) throws -> Void, audit: @escaping @Sendable (ResourceRecord, AccountRecord, Int, AccessRequestRecord?) -> AuditEvent)
        async throws -> Retrieval
    {
        try await db.write { [secrets, log] c in
            guard let (r, a, have) = try await PGAccountStore.visible(accountID, resourceID, p, c) else { return .notVisible }
            var held: AccessRequestRecord? = nil
            if let gate {
                let (enabled, holders) = try await PGAccessStore.gateFacts(account: a.id, resource: r.id, c)
                held = try gate(AccessGateFacts(enabled: enabled, holders: holders, permission: have))
            }
            try authorize(have)
            try check(try await PGCatalog.setting(Settings.requireReason, c) == "true")
            let current = try await secrets.current(account: a.id, c)
            let candidates = try await secrets.candidates(account: a.id, c)
            guard current != nil || !candidates.isEmpty else { return .noPassword }
            try await log.append(audit(r, a, candidates.count, held), c)
            return .found(Retrieved(current: current, candidates: candidates))
        }
    }

    func history(_ accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void,
        reveal: (@Sendable (ResourceRecord, AccountRecord, Int) -> AuditEvent)?) async throws -> [PasswordVersion]?
    {
        let body: @Sendable (PGConnection) async throws -> [PasswordVersion]? = { [secrets, log] c in
            guard let (r, a, have) = try await PGAccountStore.visible(accountID, resourceID, p, c) else { return nil }
            try authorize(have)
            let rows = try await c.rows("""
                SELECT s.id, s.state, s.createdAt, s.createdBy, s.ip, s.sealed, t.id AS taskId, t.rotationRunId, t.requestedBy, t.requestedById,
                  t.reconcileAttempts
                FROM secrets s LEFT JOIN tasks t ON t.id = s.taskId
                WHERE s.accountId = ? AND s.state IN ('current', 'history')
                ORDER BY (s.state = 'current') DESC, s.createdAt DESC, s.seq DESC
                """, [a.id])
            var out: [PasswordVersion] = []
            for row in rows {
                var origin: PasswordVersion.Origin? = nil
                if let task = try row["taskId", as: String?.self] {
                    let queued = try await c.row("""
                        SELECT operation, ip, message FROM audit WHERE accountId = ? AND operation IN ('queue_reset', 'checkin_password') AND message LIKE ? ORDER BY id LIMIT 1
                        """, [a.id, "%task \(task)%"])
                    origin = .init(taskId: task, rotationRunId: try row["rotationRunId"], requestedBy: try row["requestedBy"],
                        requestedById: try row["requestedById"], reconcileAttempts: try row["reconcileAttempts", as: Int?.self] ?? 0,
                        queuedBy: try queued.map { (try $0["operation"], try $0["ip"], try $0["message", as: String?.self] ?? "") })
                }
                let at = Date(timeIntervalSince1970: try row["createdAt", as: Double.self])
                let (how, ip) = PasswordVersion.classify(origin, createdAt: at, accountCreatedAt: a.createdAt, ip: try row["ip"])
                var v = PasswordVersion(id: try row["id"], current: try row["state", as: String.self] == "current", createdAt: at, by: try row["createdBy"],
                    how: how, ip: ip, taskId: origin?.taskId)
                if reveal != nil {
                    v.password = try secrets.vault.openSecret(try row["sealed", as: Data.self], identity: Vault.secretIdentity(secretID: v.id, accountID: a.id))
                }
                out.append(v)
            }
            if let reveal { try await log.append(reveal(r, a, out.count), c) }
            return out
        }
        return reveal == nil ? try await db.read(body) : try await db.write(body)
    }

    func changeLocally(_ accountID: String, of resourceID: String, visibleTo p: Principal, at: Date,
        authorize: @Sendable (Permission) throws -> Void, decide: @Sendable (LocalChangeFacts) throws -> Secret, listenerTrigger: String,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent, notice: @Sendable (ResourceRecord, AccountRecord) -> Notice)
        async throws -> Bool
    {
        try await db.write { [secrets, listeners, notices, log] c in
            guard let (r, a, have) = try await PGAccountStore.visible(accountID, resourceID, p, c) else { return false }
            try authorize(have)
            if try await PGQueries.resetUnderWay(a.id, c) {
                throw DomainError(.conflict, "reset_in_progress", "a reset of this account is under way: a local change waits until it has ended")
            }
            let policy = try await PGCatalog.effectivePolicy(for: r, c)
            let recent = policy.historyDepth > 0 ? try await secrets.recent(account: a.id, depth: policy.historyDepth - 1, c) : []
            let new = try decide(LocalChangeFacts(resource: r, account: a, policy: policy, recent: recent))
            let old = try await secrets.current(account: a.id, c)
            let event = audit(r, a)
            try await secrets.setCurrent(new, account: a.id, by: p.username, at: at, keep: policy.historyDepth, ip: event.ip, c)
            try await listeners.queue(r, a, old: old, new: new, trigger: listenerTrigger, c)
            try await c.execute("UPDATE accounts SET lastChangedAt = ? WHERE id = ?", [at, a.id])
            try await log.append(event, c)
            try await notices.queue(notice(r, a), c)
            return true
        }
    }

    func policy(ofAccount accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void)
        async throws -> (AccountRecord, PasswordPolicy)?
    {
        try await db.read { c in
            guard let (r, a, have) = try await PGAccountStore.visible(accountID, resourceID, p, c) else { return nil }
            try authorize(have)
            return (a, try await PGCatalog.effectivePolicy(for: r, c))
        }
    }
}
