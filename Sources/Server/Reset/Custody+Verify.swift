import Foundation
import GRDB
import Shared

/// A verify task: does the vault's password log in? It is also what settles candidates that an
/// unresolved reset left: the current password working drops them; a candidate working becomes
/// the current password.
extension Custody {
    func runVerify(_ task: TaskRecord) async throws {
        var c = try await context(task)
        let code = try await verifyResult(&c, c.current, task)
        let stale = try await store.read { db in try secrets.candidates(account: task.accountId, db).filter { !$0.active } }
        if code == nil {
            if !stale.isEmpty {
                try await store.write { db in
                    for cand in stale { try secrets.discardPending(id: cand.id, db) }
                    try AuditLog.append(AuditEvent(user: "system", ip: "server", operation: "candidates_dropped",
                        message: "task \(task.id): the current password works; \(stale.count) candidate(s) dropped",
                        resourceId: task.resourceId, accountId: task.accountId), in: db)
                }
            }
            try await finish(task, state: .succeeded, code: "ok", message: "the stored password works", sync: .inSync)
            return
        }
        if code == .authenticationFailed {
            // At most the newest two: each try is a failed login on the target if it is wrong.
            for cand in stale.prefix(2) where try await verifyResult(&c, cand.secret, task) == nil {
                if try await promote(cand, task) {
                    try await finish(task, state: .succeeded, code: "ok", message: "a candidate password works and is now the current one",
                        sync: .inSync, checkSuperseded: false)
                    return
                }
            }
        }
        let sync: SyncStatus = code == .authenticationFailed ? .outOfSync : code == .unreachable ? .unreachable : .unknown
        try await finish(task, state: .failed, code: code?.rawValue ?? "unknown", message: "the stored password did not verify (\(code?.rawValue ?? ""))",
            sync: sync)
    }

    /// The candidate becomes current (the old one goes to history) unless a reset got under way.
    func promote(_ cand: SecretStore.Candidate, _ task: TaskRecord) async throws -> Bool {
        let keep = try await store.read { db in
            try ResourceRecord.fetchOne(db, key: task.resourceId).map { try Catalog.effectivePolicy(for: $0, db).historyDepth } ?? 0
        }
        return try await store.write { db in
            // Not over a reset under way, nor over a change made since this verify started.
            guard try !superseded(task, db) else { return false }
            try secrets.promotePending(id: cand.id, account: task.accountId, keep: keep, db)
            for other in try secrets.candidates(account: task.accountId, db) where !other.active { try secrets.discardPending(id: other.id, db) }
            try db.execute(sql: "UPDATE tasks SET pendingSecretId = NULL WHERE pendingSecretId = ?", arguments: [cand.id])
            try db.execute(sql: "UPDATE accounts SET lastChangedAt = ? WHERE id = ?", arguments: [now().seconds, task.accountId])
            try AuditLog.append(AuditEvent(user: "system", ip: "server", operation: "change_password",
                message: "task \(task.id): the candidate from \(cand.taskId.map { "task \($0)" } ?? "a reset") works on the target; it is now current",
                resourceId: task.resourceId, accountId: task.accountId), in: db)
            return true
        }
    }

    /// A verify that started before a reset committed, or while one is under way, says nothing
    /// about the password now in the vault: its result must not touch the account's status.
    func superseded(_ t: TaskRecord, _ db: Database) throws -> Bool {
        guard t.kind == .verify else { return false }
        if try resetUnderWay(t.accountId, db) { return true }
        let changed = try Double.fetchOne(db, sql: "SELECT lastChangedAt FROM accounts WHERE id = ?", arguments: [t.accountId]) ?? nil
        return (changed ?? 0) > (t.startedAt ?? t.createdAt).seconds
    }
}
