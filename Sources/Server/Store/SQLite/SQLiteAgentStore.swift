import Foundation
import GRDB

/// `AgentStore` on SQLite: tables `agents` and `agentNonces`.
struct SQLiteAgentStore: AgentStore {
    let db: DatabasePool
    /// An agent's contact goes in with the writes beside it (group commit).
    let appends: GroupCommit<AuditedUnit>
    let cache: ObservedCache<AgentRecord>
    let unknown: ObservedCache<Bool>

    func agent(_ id: String) async throws -> AgentRecord? {
        // Every agent request asks: most answers (an unknown id's too) come from memory.
        if let known = cache.get(id) { return known }
        if unknown.get(id) != nil { return nil }
        let (generation, missing) = (cache.generation, unknown.generation)
        let found = try await db.read { db in try AgentRecord.fetchOne(db, key: id) }
        if let found { cache.put(id, found, generation: generation) } else { unknown.put(id, true, generation: missing) }
        return found
    }

    func agents() async throws -> [AgentRecord] {
        try await db.read { db in try AgentRecord.order(Column("enrolledAt"), Column("id")).fetchAll(db) }
    }

    func agents(_ filter: AgentFilter, offlineBefore: Date, _ page: PageRequest) async throws -> Page<AgentRecord> {
        let q = NamedListQuery.agents(filter.status, offlineBefore: offlineBefore, .sqlite).page(prefix: filter.hostPrefix, page)
        let rows = try await db.read { db in try AgentRecord.fetchAll(db, sql: q.sql, arguments: StatementArguments(q.arguments)) }
        return Page(fetched: rows, page) { PageCursor(key: $0.hostname, id: $0.id) }
    }

    func recordContact(agentID: String, nonce: String, at: Date, pruneBefore: Date?) async throws -> Bool {
        // Written in the group's transaction: a unit that throws leaves at most its nonce, which
        // refuses nothing but a replay.
        try await appends.perform { db -> (Bool, AuditEvent?) in
            if let pruneBefore { try db.cachedStatement(sql: "DELETE FROM agentNonces WHERE at < ?").execute(arguments: [pruneBefore.seconds]) }
            try db.cachedStatement(sql: "INSERT INTO agentNonces(nonce, at) VALUES (?, ?) ON CONFLICT(nonce) DO NOTHING")
                .execute(arguments: [nonce, at.seconds])
            guard db.changesCount == 1 else { return (false, nil) }
            try db.cachedStatement(sql: "UPDATE agents SET lastSeenAt = ? WHERE id = ?").execute(arguments: [at.seconds, agentID])
            return (true, nil)
        }
    }

    func nonces(since: Date) async throws -> [(nonce: String, at: Date)] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT nonce, at FROM agentNonces WHERE at >= ?", arguments: [since.seconds])
                .map { (nonce: $0["nonce"], at: Date(timeIntervalSince1970: $0["at"])) }
        }
    }

    func setVersion(agentID: String, _ version: String) async throws {
        try await db.write { db in try db.execute(sql: "UPDATE agents SET version = ? WHERE id = ?", arguments: [version, agentID]) }
    }

    func revoke(_ id: String, at: Date, audit event: @Sendable (AgentRecord) -> AuditEvent) async throws -> AgentRecord? {
        try await db.write { db in
            guard try AgentRecord.fetchOne(db, key: id) != nil else { return nil }
            try db.execute(sql: "UPDATE agents SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL", arguments: [at.seconds, id])
            try SQLiteAgentJobStore.revokeJobs(agentID: id, db)
            let a = try AgentRecord.fetchOne(db, key: id)!
            try AuditLog.append(event(a), in: db)
            return a
        }
    }
}
