import Foundation
import GRDB

/// `AuditPurgeStore` on SQLite.
struct SQLiteAuditPurgeStore: AuditPurgeStore {
    let db: DatabasePool

    func purgePlan(before: Date) async throws -> AuditPurgePlan? {
        try await db.read { db in
            let key = try AuditLog.key(db)
            let start = try Self.start(key, db)
            // The purge is a prefix by id: it ends before the first record at or after the cut-off,
            // so a record with an odd time never drags newer ones along.
            let firstKept = try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM audit WHERE at >= ?", arguments: [before.timeIntervalSince1970])
            let lastId = try firstKept.map { $0 - 1 } ?? (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM audit") ?? 0)
            guard lastId > start.id, let lastHash = try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE id = ?", arguments: [lastId]) else {
                return nil
            }
            return AuditPurgePlan(firstId: start.id + 1, lastId: lastId, count: Int(lastId - start.id), prevHash: start.hash, lastHash: lastHash)
        }
    }

    /// Where the trail starts: after the checkpoint, or at the genesis.
    static func start(_ key: Data, _ db: Database) throws -> (id: Int64, hash: String) {
        switch AuditCheckpoint.parse(try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [AuditCheckpoint.key]), key: key) {
        case .none: return (0, AuditEntry.genesis)
        case .valid(let id, let hash): return (id, hash)
        case .forged: throw DomainError.conflict("the audit checkpoint does not authenticate; run custody audit verify before purging")
        }
    }

    func records(after: Int64, limit: Int) async throws -> [AuditEntry] {
        try await db.read { db in
            try AuditEntry.fetchAll(db, sql: "SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit])
        }
    }

    func lastId() async throws -> Int64 {
        try await db.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM audit") ?? 0 }
    }

    func purge(_ plan: AuditPurgePlan, audit: AuditEvent) async throws -> Int {
        try await db.write { db in
            let key = try AuditLog.key(db)
            guard try Self.start(key, db) == (plan.firstId - 1, plan.prevHash),
                try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE id = ?", arguments: [plan.lastId]) == plan.lastHash,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit WHERE id <= ?", arguments: [plan.lastId]) == plan.count
            else { throw DomainError.conflict("the trail changed since the archive was written; nothing was purged") }
            // The append-only trigger steps aside for this one statement, inside the transaction.
            let trigger = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'auditNoDelete'")
            if trigger != nil { try db.execute(sql: "DROP TRIGGER auditNoDelete") }
            try db.execute(sql: "DELETE FROM audit WHERE id <= ?", arguments: [plan.lastId])
            let removed = db.changesCount
            if let trigger { try db.execute(sql: trigger) }
            try db.execute(sql: "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [AuditCheckpoint.key, AuditCheckpoint.value(id: plan.lastId, hash: plan.lastHash, key: key)])
            try AuditLog.append(audit, in: db)
            return removed
        }
    }

    func purged(_ plan: AuditPurgePlan) async throws -> Bool {
        try await db.read { db in try Self.start(try AuditLog.key(db), db) == (plan.lastId, plan.lastHash) }
    }
}
