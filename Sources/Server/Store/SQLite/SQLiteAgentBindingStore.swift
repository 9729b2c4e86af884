import Foundation
import GRDB

/// `AgentBindingStore` on SQLite: tables `agentBindings`, `enrollmentTokens` and `agents`;
/// permissions through `Access`.
struct SQLiteAgentBindingStore: AgentBindingStore {
    let db: DatabasePool

    func bindings(of agentID: String) async throws -> [String] { try await db.read { db in try Self.bindings(agentID, db) } }

    func pendingBindings(of agent: AgentRecord) async throws -> [String] {
        guard agent.revokedAt == nil else { return [] }
        return try await db.read { db in
            try String.fetchAll(db, sql: """
                SELECT r.id FROM resources r JOIN resetConfigs c ON c.resourceId = r.id
                WHERE lower(r.dnsName) = ? AND c.json LIKE '%"mode":"agent"%'
                  AND r.id NOT IN (SELECT resourceId FROM agentBindings WHERE agentId = ?) ORDER BY r.name
                """, arguments: [agent.hostname, agent.id])
        }
    }

    func serving(_ agents: [AgentRecord]) async throws -> [String: AgentServes] {
        let ids = agents.map(\.id)
        let hosts = AgentServes.hosts(agents)
        return try await db.read { db in
            let bound = try Row.fetchAll(db, sql: AgentServes.boundSQL(ids.count), arguments: StatementArguments(ids)).map {
                (agent: try $0.decode(String.self, forColumn: "agentId"), resource: try $0.decode(String.self, forColumn: "resourceId"))
            }
            let candidates = try Row.fetchAll(db, sql: AgentServes.candidatesSQL(hosts.count), arguments: StatementArguments(hosts)).map {
                (host: try $0.decode(String.self, forColumn: "host"), resource: try $0.decode(String.self, forColumn: "id"))
            }
            return AgentServes.assemble(agents, bound: bound, candidates: candidates)
        }
    }

    func bind(agentID: String, resourceID: String, move: Bool, by p: Principal, at: Date, check: BindingCheck,
        audit: @Sendable (AgentRecord, ResourceRecord, _ before: String?) -> AuditEvent) async throws -> BindingOutcome
    {
        try await db.write { db in
            guard let agent = try AgentRecord.fetchOne(db, key: agentID) else { return .noSuchAgent }
            guard agent.revokedAt == nil else { return .agentRevoked }
            let r = try Self.checked(resourceID, p, check, db)
            let before = try String.fetchOne(db, sql: "SELECT agentId FROM agentBindings WHERE resourceId = ?", arguments: [r.id])
            if let before, before != agent.id, !move {
                throw StoreError(code: .conflict, message: "agent \(before) serves \(r.name); send move: true to hand it to this agent")
            }
            try Self.bind(agent.id, r.id, p.username, at, db)
            try AuditLog.append(audit(agent, r, before), in: db)
            return .bound(try Self.bindings(agent.id, db))
        }
    }

    func unbind(agentID: String, resourceID: String, by p: Principal, check: BindingCheck, audit: AuditEvent) async throws -> Bool {
        try await db.write { db in
            _ = try Self.checked(resourceID, p, check, db)
            try db.execute(sql: "DELETE FROM agentBindings WHERE agentId = ? AND resourceId = ?", arguments: [agentID, resourceID])
            guard db.changesCount == 1 else { return false }
            try AuditLog.append(audit, in: db)
            return true
        }
    }

    func check(resourceID: String, by p: Principal, _ check: BindingCheck) async throws {
        try await db.read { db in _ = try Self.checked(resourceID, p, check, db) }
    }

    func addEnrollmentToken(_ t: EnrollmentToken, by p: Principal, check: BindingCheck, audit: AuditEvent) async throws {
        try await db.write { db in
            if let rid = t.resourceId { _ = try Self.checked(rid, p, check, db) }
            try db.execute(sql: """
                INSERT INTO enrollmentTokens(digest, os, resourceId, createdBy, createdAt, expiresAt) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [t.digest, t.os, t.resourceId, t.createdBy, t.createdAt.seconds, t.expiresAt.seconds])
            try AuditLog.append(audit, in: db)
        }
    }

    func enroll(_ agent: AgentRecord, tokenDigest: String, at: Date, audit: @Sendable (AgentRecord, _ bound: Bool) -> AuditEvent) async throws
        -> AgentRecord?
    {
        try await db.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM enrollmentTokens WHERE digest = ?", arguments: [tokenDigest]),
                (row["usedAt"] as Double?) == nil, (row["expiresAt"] as Double) > at.seconds
            else { return nil }
            var agent = agent
            agent.resourceId = row["resourceId"]
            try agent.insert(db)
            try db.execute(sql: "UPDATE enrollmentTokens SET usedAt = ?, agentId = ? WHERE digest = ?", arguments: [at.seconds, agent.id, tokenDigest])
            var bound = false
            if let rid = agent.resourceId, let r = try ResourceRecord.fetchOne(db, key: rid) {
                // The administrator who made the bundle for this resource binds it, if they still may.
                let maker: String = row["createdBy"]
                if let u = try UserRecord.filter(Column("username") == maker).fetchOne(db), u.role == .administrator,
                    try Access.onResource(r, Principal(userID: u.id, username: u.username, role: u.role, superAdmin: u.superAdmin,
                        mustChangePassword: u.mustChangePassword, tokenID: ""), db) == .manage
                {
                    try Self.bind(agent.id, rid, maker, at, db)
                    bound = true
                }
            }
            try AuditLog.append(audit(agent, bound), in: db)
            return agent
        }
    }

    private static func checked(_ resourceID: String, _ p: Principal, _ check: BindingCheck, _ db: Database) throws -> ResourceRecord {
        let r = try ResourceRecord.fetchOne(db, key: resourceID)
        try check(r, try r.flatMap { try Access.onResource($0, p, db) })
        guard let r else { throw StoreError(code: .notFound, message: "resource") }
        return r
    }

    private static func bindings(_ agentID: String, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT resourceId FROM agentBindings WHERE agentId = ? ORDER BY approvedAt", arguments: [agentID])
    }

    private static func bind(_ agent: String, _ resource: String, _ user: String, _ at: Date, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO agentBindings(resourceId, agentId, approvedBy, approvedAt) VALUES (?, ?, ?, ?)
            ON CONFLICT(resourceId) DO UPDATE SET agentId = excluded.agentId, approvedBy = excluded.approvedBy, approvedAt = excluded.approvedAt
            """, arguments: [resource, agent, user, at.seconds])
    }
}
