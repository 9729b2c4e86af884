import Foundation

/// `AgentStore` on PostgreSQL. Nonces are shared by the nodes: a request replayed to another node
/// finds its nonce taken (the primary key) and is refused.
struct PGAgentStore: AgentStore {
    let db: PGDatabase
    let log: PGAuditLog

    func agent(_ id: String) async throws -> AgentRecord? {
        try await db.read { c in try await c.one(AgentRecord.self, "SELECT * FROM agents WHERE id = ?", [id]) }
    }

    func agents() async throws -> [AgentRecord] {
        try await db.read { c in try await c.all(AgentRecord.self, "SELECT * FROM agents ORDER BY enrolledAt, id") }
    }

    func agents(_ filter: AgentFilter, offlineBefore: Date, _ page: PageRequest) async throws -> Page<AgentRecord> {
        let q = NamedListQuery.agents(filter.status, offlineBefore: offlineBefore, .postgres).page(prefix: filter.hostPrefix, page)
        let rows = try await db.read { c in try await c.all(AgentRecord.self, q.sql, q.arguments) }
        return Page(fetched: rows, page) { PageCursor(key: $0.hostname, id: $0.id) }
    }

    func recordContact(agentID: String, nonce: String, at: Date, pruneBefore: Date?) async throws -> Bool {
        try await db.write { c in
            if let pruneBefore { try await c.execute("DELETE FROM agentNonces WHERE at < ?", [pruneBefore]) }
            let fresh = try await c.rows("INSERT INTO agentNonces(nonce, at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING RETURNING 1",
                [nonce, at]).count == 1
            guard fresh else { return false }
            try await c.execute("UPDATE agents SET lastSeenAt = ? WHERE id = ?", [at, agentID])
            return true
        }
    }

    func nonces(since: Date) async throws -> [(nonce: String, at: Date)] {
        try await db.read { c in
            try await c.rows("SELECT nonce, at FROM agentNonces WHERE at >= ?", [since]).map { r in
                (nonce: try r["nonce", as: String.self], at: try r["at", as: Date.self])
            }
        }
    }

    func setVersion(agentID: String, _ version: String) async throws {
        try await db.write { c in try await c.execute("UPDATE agents SET version = ? WHERE id = ?", [version, agentID]) }
    }

    func revoke(_ id: String, at: Date, audit event: @Sendable (AgentRecord) -> AuditEvent) async throws -> AgentRecord? {
        try await db.write { c in
            guard try await c.scalar(Int.self, "SELECT 1 FROM agents WHERE id = ?", [id]) != nil else { return nil }
            try await c.execute("UPDATE agents SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL", [at, id])
            try await PGAgentJobStore.revokeJobs(agentID: id, c)
            guard let a = try await c.one(AgentRecord.self, "SELECT * FROM agents WHERE id = ?", [id]) else { return nil }
            try await log.append(event(a), c)
            return a
        }
    }
}
