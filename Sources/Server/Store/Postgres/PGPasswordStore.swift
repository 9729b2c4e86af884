import Foundation
import Shared

/// `PasswordStore` on PostgreSQL: `secrets` through `PGSecretStore`, visibility through `PGAccess`.
struct PGPasswordStore: PasswordStore {
    let db: PGDatabase
    let log: PGAuditLog
    let secrets: PGSecretStore
    let notices: PGNotices
    let listeners: PGListenerQueue

    func retrieve(_ accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void,
        check: @Sendable (Bool) throws -> Void, audit: @Sendable (ResourceRecord, AccountRecord, Int) -> AuditEvent) async throws -> Retrieval
    {
        try await db.write { [secrets, log] c in
            guard let (r, a, have) = try await PGAccountStore.visible(accountID, resourceID, p, c) else { return .notVisible }
            try authorize(have)
            try check(try await PGCatalog.setting(Settings.requireReason, c) == "true")
            let current = try await secrets.current(account: a.id, c)
            let candidates = try await secrets.candidates(account: a.id, c)
            guard current != nil || !candidates.isEmpty else { return .noPassword }
            try await log.append(audit(r, a, candidates.count), c)
            return .found(Retrieved(current: current, candidates: candidates))
        }
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
            try await secrets.setCurrent(new, account: a.id, by: p.username, at: at, keep: policy.historyDepth, c)
            try await listeners.queue(r, a, old: old, new: new, trigger: listenerTrigger, c)
            try await c.execute("UPDATE accounts SET lastChangedAt = ? WHERE id = ?", [at, a.id])
            try await log.append(audit(r, a), c)
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
