import Foundation
import GRDB
import Shared

/// The transitions that decide on stored state: claiming, ending, committing, promoting.
extension SQLiteTaskStore {
    func claim(_ request: ClaimRequest, windowClosed: @Sendable (TaskRecord) -> TaskWrite,
        supersededVerify: @Sendable (TaskRecord) -> TaskWrite) async throws -> [TaskRecord]
    {
        guard request.limit > 0 || request.agentLimit > 0 else { return [] }
        return try await db.write { db in
            let at = request.at.seconds
            for t in try TaskRecord.fetchAll(db, sql: """
                SELECT * FROM tasks WHERE state = 'queued' AND phase = 'queued' AND notAfter IS NOT NULL AND notAfter <= ?
                """, arguments: [at])
            {
                var w = windowClosed(t)
                w.dropPending = t.pendingSecretId
                w.task.pendingSecretId = nil
                try apply(w, db)
            }
            var counts = request.busyHosts
            var picked: [TaskRecord] = []
            var left = (agentless: request.limit, agent: request.agentLimit)
            var busy = Set(try String.fetchAll(db, sql: "SELECT accountId FROM tasks WHERE state = 'running'"))
            let resetting = Set(try String.fetchAll(db, sql: """
                SELECT accountId FROM tasks WHERE kind = 'reset' AND state IN ('queued', 'running', 'unknown')
                """))
            let due = try TaskRecord.fetchAll(db, sql: """
                SELECT * FROM tasks WHERE state IN ('queued', 'unknown') AND notBefore <= ? ORDER BY createdAt LIMIT 500
                """, arguments: [at])
            busy.formUnion(due.filter { request.excluding.contains($0.id) }.map(\.accountId))
            for var t in due where !request.excluding.contains(t.id) && counts[t.host, default: 0] < request.perHost && !busy.contains(t.accountId) {
                if t.kind == .verify && resetting.contains(t.accountId) {
                    try apply(supersededVerify(t), db)
                    continue
                }
                if t.via == "agent" {
                    guard left.agent > 0 else { continue }
                    left.agent -= 1
                } else {
                    guard left.agentless > 0 else { continue }
                    left.agentless -= 1
                }
                busy.insert(t.accountId)
                counts[t.host, default: 0] += 1
                t.state = .running
                t.startedAt = t.startedAt ?? request.at
                try t.update(db)
                picked.append(t)
            }
            return picked
        }
    }

    func finish(_ task: TaskRecord, _ decide: @Sendable (TaskRecord, Bool) -> TaskWrite) async throws {
        try await db.write { db in try apply(decide(task, try Self.superseded(task, db)), db) }
    }

    func commit(_ write: TaskWrite, at: Date, listenerTrigger: String) async throws {
        try await db.write { [secrets, listeners] db in
            let t = write.task
            if let sid = t.pendingSecretId {
                let r = try ResourceRecord.fetchOne(db, key: t.resourceId)
                let keep = try r.map { try Catalog.effectivePolicy(for: $0, db).historyDepth } ?? 0
                let old = try secrets.current(account: t.accountId, db)
                let new = try secrets.pending(id: sid, account: t.accountId, db)
                try secrets.promotePending(id: sid, account: t.accountId, keep: keep, db)
                if let new, let r, let a = try AccountRecord.fetchOne(db, key: t.accountId) {
                    try listeners.queue(r, a, old: old, new: new, trigger: listenerTrigger, db)
                }
            }
            try db.execute(sql: "UPDATE accounts SET syncStatus = 'inSync', lastChangedAt = ?, lastVerifiedAt = ? WHERE id = ?",
                arguments: [at.seconds, at.seconds, t.accountId])
            // The new password just verified: candidates an earlier unresolved reset left are settled.
            for stale in try secrets.candidates(account: t.accountId, db) where !stale.active && stale.id != t.pendingSecretId {
                try secrets.discardPending(id: stale.id, db)
            }
            var w = write
            w.task.pendingSecretId = nil
            try apply(w, db)
        }
    }

    func promote(_ candidateID: String, for task: TaskRecord, at: Date, audit: AuditEvent) async throws -> Bool {
        try await db.write { [secrets] db in
            // Not over a reset under way, nor over a change made since this verify started.
            guard try !Self.superseded(task, db) else { return false }
            let keep = try ResourceRecord.fetchOne(db, key: task.resourceId).map { try Catalog.effectivePolicy(for: $0, db).historyDepth } ?? 0
            try secrets.promotePending(id: candidateID, account: task.accountId, keep: keep, db)
            for other in try secrets.candidates(account: task.accountId, db) where !other.active { try secrets.discardPending(id: other.id, db) }
            try db.execute(sql: "UPDATE tasks SET pendingSecretId = NULL WHERE pendingSecretId = ?", arguments: [candidateID])
            try db.execute(sql: "UPDATE accounts SET lastChangedAt = ? WHERE id = ?", arguments: [at.seconds, task.accountId])
            try AuditLog.append(audit, in: db)
            return true
        }
    }

    func pinHostKey(_ key: String, resourceID: String, task: String?, audit: @Sendable (ResourceRecord) -> AuditEvent) async throws -> Bool {
        try await db.write { db in
            guard var config = try ResetConfig.stored(for: resourceID, db), config.hostKey == nil,
                let r = try ResourceRecord.fetchOne(db, key: resourceID)
            else { return false }
            config.hostKey = key
            let json = String(decoding: try JSONEncoder.api.encode(config), as: UTF8.self)
            try db.execute(sql: "UPDATE resetConfigs SET json = ? WHERE resourceId = ?", arguments: [json, resourceID])
            try AuditLog.append(audit(r), in: db)
            return true
        }
    }

    func abandon(_ id: String, _ decide: @Sendable (TaskRecord) throws -> TaskWrite) async throws -> TaskRecord? {
        try await db.write { db in
            guard let t = try TaskRecord.fetchOne(db, key: id) else { return nil }
            let w = try decide(t)
            try apply(w, db)
            return w.task
        }
    }

    /// Writes `w` in the caller's transaction.
    func apply(_ w: TaskWrite, _ db: Database) throws {
        if let sid = w.dropPending { try secrets.discardPending(id: sid, db) }
        try w.task.update(db)
        if let sync = w.sync {
            if let at = w.verifiedAt {
                try db.execute(sql: "UPDATE accounts SET syncStatus = ?, lastVerifiedAt = ? WHERE id = ?", arguments: [sync.rawValue, at.seconds, w.task.accountId])
            } else {
                try db.execute(sql: "UPDATE accounts SET syncStatus = ? WHERE id = ?", arguments: [sync.rawValue, w.task.accountId])
            }
        }
        for e in w.audit { try AuditLog.append(e, in: db) }
        for key in w.clearMarks { try SQLiteNotices.clearMark(key, db) }
        try notices.queue(w.notices, db)
    }

    /// A verify that started before a reset committed, or while one is under way, says nothing
    /// about the password now in the vault.
    static func superseded(_ t: TaskRecord, _ db: Database) throws -> Bool {
        guard t.kind == .verify else { return false }
        if try TaskRecord.resetUnderWay(t.accountId, db) { return true }
        let changed = try Double.fetchOne(db, sql: "SELECT lastChangedAt FROM accounts WHERE id = ?", arguments: [t.accountId]) ?? nil
        return (changed ?? 0) > (t.startedAt ?? t.createdAt).seconds
    }
}
