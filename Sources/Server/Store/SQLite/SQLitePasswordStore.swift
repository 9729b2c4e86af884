import Foundation
import GRDB
import Shared

/// `PasswordStore` on SQLite: `secrets` through `SecretStore`, visibility through `Access`.
struct SQLitePasswordStore: PasswordStore {
    let db: DatabasePool
    let secrets: SecretStore
    let notices: SQLiteNotices
    let listeners: SQLiteListenerQueue

    func retrieve(_ accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void,
        check: @Sendable (Bool) throws -> Void, audit: @Sendable (ResourceRecord, AccountRecord, Int) -> AuditEvent) async throws -> Retrieval
    {
        try await db.write { [secrets] db in
            guard let (r, a, have) = try SQLiteAccountStore.visible(accountID, resourceID, p, db) else { return .notVisible }
            try authorize(have)
            try check(try Settings.get(Settings.requireReason, db) == "true")
            let current = try secrets.current(account: a.id, db)
            let candidates = try secrets.candidates(account: a.id, db)
            // No password known yet: a first reset's candidates are still worth retrieving.
            guard current != nil || !candidates.isEmpty else { return .noPassword }
            try AuditLog.append(audit(r, a, candidates.count), in: db)
            return .found(Retrieved(current: current, candidates: candidates))
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
            try secrets.setCurrent(new, account: a.id, by: p.username, at: at, keep: policy.historyDepth, db)
            try listeners.queue(r, a, old: old, new: new, trigger: listenerTrigger, db)
            try db.execute(sql: "UPDATE accounts SET lastChangedAt = ? WHERE id = ?", arguments: [at.seconds, a.id])
            try AuditLog.append(audit(r, a), in: db)
            try notices.queue(notice(r, a), db)
            return true
        }
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
