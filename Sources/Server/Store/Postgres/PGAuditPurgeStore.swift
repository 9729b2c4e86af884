import Foundation

/// `AuditPurgeStore` on PostgreSQL (the purge holds the cluster's writer lock like every write).
struct PGAuditPurgeStore: AuditPurgeStore {
    let db: PGDatabase
    let log: PGAuditLog

    func purgePlan(before: Date) async throws -> AuditPurgePlan? {
        try await db.read { [log] c in
            let start = try await Self.start(try log.key(), c)
            let firstKept = try await c.scalar(Int64.self, "SELECT MIN(id) FROM audit WHERE at >= ?", [before.timeIntervalSince1970])
            var lastId = firstKept.map { $0 - 1 } ?? 0
            if firstKept == nil { lastId = try await c.scalar(Int64.self, "SELECT MAX(id) FROM audit") ?? 0 }
            guard lastId > start.id, let lastHash = try await c.scalar(String.self, "SELECT hash FROM audit WHERE id = ?", [lastId]) else { return nil }
            return AuditPurgePlan(firstId: start.id + 1, lastId: lastId, count: Int(lastId - start.id), prevHash: start.hash, lastHash: lastHash)
        }
    }

    static func start(_ key: Data, _ c: PGConnection) async throws -> (id: Int64, hash: String) {
        switch AuditCheckpoint.parse(try await c.scalar(String.self, "SELECT value FROM settings WHERE key = ?", [AuditCheckpoint.key]), key: key) {
        case .none: return (0, AuditEntry.genesis)
        case .valid(let id, let hash): return (id, hash)
        case .forged: throw DomainError.conflict("the audit checkpoint does not authenticate; run custody audit verify before purging")
        }
    }

    func records(after: Int64, limit: Int) async throws -> [AuditEntry] {
        try await db.read { c in try await c.all(AuditEntry.self, "SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?", [after, limit]) }
    }

    func lastId() async throws -> Int64 {
        try await db.read { c in try await c.scalar(Int64.self, "SELECT MAX(id) FROM audit") ?? 0 }
    }

    func purge(_ plan: AuditPurgePlan, audit: AuditEvent) async throws -> Int {
        try await db.write { [log] c in
            let key = try log.key()
            guard try await Self.start(key, c) == (plan.firstId - 1, plan.prevHash),
                try await c.scalar(String.self, "SELECT hash FROM audit WHERE id = ?", [plan.lastId]) == plan.lastHash,
                try await c.scalar(Int.self, "SELECT COUNT(*) FROM audit WHERE id <= ?", [plan.lastId]) == plan.count
            else { throw DomainError.conflict("the trail changed since the archive was written; nothing was purged") }
            // The append-only trigger steps aside inside this transaction only (it rolls back with it).
            try await c.execute("ALTER TABLE audit DISABLE TRIGGER auditNoChange")
            let removed = try await c.scalar(Int.self, "WITH gone AS (DELETE FROM audit WHERE id <= ? RETURNING 1) SELECT COUNT(*) FROM gone", [plan.lastId]) ?? 0
            try await c.execute("ALTER TABLE audit ENABLE TRIGGER auditNoChange")
            try await c.execute("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [AuditCheckpoint.key, AuditCheckpoint.value(id: plan.lastId, hash: plan.lastHash, key: key)])
            try await log.append(audit, c)
            return removed
        }
    }

    func purged(_ plan: AuditPurgePlan) async throws -> Bool {
        try await db.read { [log] c in try await Self.start(try log.key(), c) == (plan.lastId, plan.lastHash) }
    }
}
