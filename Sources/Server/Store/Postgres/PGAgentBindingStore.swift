import Foundation

/// `AgentBindingStore` on PostgreSQL: tables `agentBindings`, `enrollmentTokens` and `agents`;
/// permissions through `PGAccess`. An enrollment token is used once across the cluster: the
/// writer lock orders two nodes enrolling with it, and the second finds it used.
struct PGAgentBindingStore: AgentBindingStore {
    let db: PGDatabase
    let log: PGAuditLog

    func bindings(of agentID: String) async throws -> [String] { try await db.read { c in try await Self.bindings(agentID, c) } }

    func pendingBindings(of agent: AgentRecord) async throws -> [String] {
        guard agent.revokedAt == nil else { return [] }
        return try await db.read { c in
            try await c.column(String.self, """
                SELECT r.id FROM resources r JOIN resetConfigs c ON c.resourceId = r.id
                WHERE lower(r.dnsName) = ? AND c.json LIKE '%"mode":"agent"%'
                  AND r.id NOT IN (SELECT resourceId FROM agentBindings WHERE agentId = ?) ORDER BY r.name
                """, [agent.hostname, agent.id])
        }
    }

    func serving(_ agents: [AgentRecord]) async throws -> [String: AgentServes] {
        let ids = agents.map(\.id)
        let hosts = AgentServes.hosts(agents)
        return try await db.read { c in
            let bound = try await c.rows(AgentServes.boundSQL(ids.count), ids).map {
                (agent: try $0["agentId", as: String.self], resource: try $0["resourceId", as: String.self])
            }
            let candidates = try await c.rows(AgentServes.candidatesSQL(hosts.count), hosts).map {
                (host: try $0["host", as: String.self], resource: try $0["id", as: String.self])
            }
            return AgentServes.assemble(agents, bound: bound, candidates: candidates)
        }
    }

    func bind(agentID: String, resourceID: String, move: Bool, by p: Principal, at: Date, check: BindingCheck,
        audit: @Sendable (AgentRecord, ResourceRecord, _ before: String?) -> AuditEvent) async throws -> BindingOutcome
    {
        try await db.write { c in
            guard let agent = try await c.one(AgentRecord.self, "SELECT * FROM agents WHERE id = ?", [agentID]) else { return .noSuchAgent }
            guard agent.revokedAt == nil else { return .agentRevoked }
            let r = try await Self.checked(resourceID, p, check, c)
            let before = try await c.scalar(String.self, "SELECT agentId FROM agentBindings WHERE resourceId = ?", [r.id])
            if let before, before != agent.id, !move {
                throw StoreError(code: .conflict, message: "agent \(before) serves \(r.name); send move: true to hand it to this agent")
            }
            try await Self.bind(agent.id, r.id, p.username, at, c)
            try await log.append(audit(agent, r, before), c)
            return .bound(try await Self.bindings(agent.id, c))
        }
    }

    func unbind(agentID: String, resourceID: String, by p: Principal, check: BindingCheck, audit: AuditEvent) async throws -> Bool {
        try await db.write { c in
            _ = try await Self.checked(resourceID, p, check, c)
            let gone = try await c.rows("DELETE FROM agentBindings WHERE agentId = ? AND resourceId = ? RETURNING 1", [agentID, resourceID]).count
            guard gone == 1 else { return false }
            try await log.append(audit, c)
            return true
        }
    }

    func check(resourceID: String, by p: Principal, _ check: BindingCheck) async throws {
        try await db.read { c in _ = try await Self.checked(resourceID, p, check, c) }
    }

    func addEnrollmentToken(_ t: EnrollmentToken, by p: Principal, check: BindingCheck, audit: AuditEvent) async throws {
        try await db.write { c in
            if let rid = t.resourceId { _ = try await Self.checked(rid, p, check, c) }
            try await c.execute("INSERT INTO enrollmentTokens(digest, os, resourceId, createdBy, createdAt, expiresAt) VALUES (?, ?, ?, ?, ?, ?)",
                [t.digest, t.os, t.resourceId, t.createdBy, t.createdAt, t.expiresAt])
            try await log.append(audit, c)
        }
    }

    func enroll(_ agent: AgentRecord, tokenDigest: String, at: Date, audit: @Sendable (AgentRecord, _ bound: Bool) -> AuditEvent) async throws
        -> AgentRecord?
    {
        try await db.write { c in
            guard let row = try await c.row("SELECT * FROM enrollmentTokens WHERE digest = ?", [tokenDigest]),
                try row["usedAt", as: Double?.self] == nil, try row["expiresAt", as: Double.self] > at.seconds
            else { return nil }
            var agent = agent
            agent.resourceId = try row["resourceId"]
            try await c.insert(agent, into: "agents")
            try await c.execute("UPDATE enrollmentTokens SET usedAt = ?, agentId = ? WHERE digest = ?", [at, agent.id, tokenDigest])
            var bound = false
            if let rid = agent.resourceId, let r = try await PGQueries.resource(rid, c) {
                // The administrator who made the bundle for this resource binds it, if they still may.
                let maker: String = try row["createdBy"]
                if let u = try await PGCatalog.user(named: maker, c), u.role == .administrator,
                    try await PGAccess.onResource(r, Principal(userID: u.id, username: u.username, role: u.role, superAdmin: u.superAdmin,
                        mustChangePassword: u.mustChangePassword, tokenID: ""), c) == .manage
                {
                    try await Self.bind(agent.id, rid, maker, at, c)
                    bound = true
                }
            }
            try await log.append(audit(agent, bound), c)
            return agent
        }
    }

    private static func checked(_ resourceID: String, _ p: Principal, _ check: BindingCheck, _ c: PGConnection) async throws -> ResourceRecord {
        let r = try await PGQueries.resource(resourceID, c)
        var have: Permission? = nil
        if let r { have = try await PGAccess.onResource(r, p, c) }
        try check(r, have)
        guard let r else { throw StoreError(code: .notFound, message: "resource") }
        return r
    }

    private static func bindings(_ agentID: String, _ c: PGConnection) async throws -> [String] {
        try await c.column(String.self, "SELECT resourceId FROM agentBindings WHERE agentId = ? ORDER BY approvedAt", [agentID])
    }

    private static func bind(_ agent: String, _ resource: String, _ user: String, _ at: Date, _ c: PGConnection) async throws {
        try await c.execute("""
            INSERT INTO agentBindings(resourceId, agentId, approvedBy, approvedAt) VALUES (?, ?, ?, ?)
            ON CONFLICT (resourceId) DO UPDATE SET agentId = excluded.agentId, approvedBy = excluded.approvedBy, approvedAt = excluded.approvedAt
            """, [resource, agent, user, at])
    }
}
