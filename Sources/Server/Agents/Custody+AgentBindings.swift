import Foundation
import GRDB

/// Which agent serves which resource: only what an administrator bound (the bundle's resource, or
/// an approved binding). A resource has at most one agent; binding it again moves it.
extension Custody {
    func bind(agent: String, resource: String, by user: String, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO agentBindings(resourceId, agentId, approvedBy, approvedAt) VALUES (?, ?, ?, ?)
            ON CONFLICT(resourceId) DO UPDATE SET agentId = excluded.agentId, approvedBy = excluded.approvedBy, approvedAt = excluded.approvedAt
            """, arguments: [resource, agent, user, now().seconds])
    }

    /// The resources bound to `agent`.
    func bindings(of agent: String, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT resourceId FROM agentBindings WHERE agentId = ? ORDER BY approvedAt", arguments: [agent])
    }

    /// Resources in mode agent named like the agent's host but not bound to it: shown for an
    /// administrator to approve, never served.
    func pendingBindings(of agent: AgentRecord, _ db: Database) throws -> [String] {
        guard agent.revokedAt == nil else { return [] }
        return try String.fetchAll(db, sql: """
            SELECT r.id FROM resources r JOIN resetConfigs c ON c.resourceId = r.id
            WHERE lower(r.dnsName) = ? AND c.json LIKE '%"mode":"agent"%'
              AND r.id NOT IN (SELECT resourceId FROM agentBindings WHERE agentId = ?) ORDER BY r.name
            """, arguments: [agent.hostname, agent.id])
    }

    /// An agent gets a resource's passwords: its binder must be an administrator who manages the
    /// resource (owner, manage share, or super-administrator), not merely one who can name it.
    @discardableResult
    func checkBindable(_ resourceID: String, by p: Principal, _ db: Database) throws -> ResourceRecord {
        try authorizer.check(p, .manageSettings)
        guard let r = try ResourceRecord.fetchOne(db, key: resourceID), let level = try Access.onResource(r, p, db) else {
            throw APIError.notFound("resource")
        }
        guard level == .manage else { throw APIError.forbidden("binding an agent to \(r.name) needs manage permission on it") }
        return r
    }

    /// An administrator who manages `resource` binds it to `agentID`, audited. A resource another
    /// agent serves moves only with `move`.
    func approveBinding(agentID: String, resourceID: String, move: Bool = false, by p: Principal, ip: String) async throws -> [String] {
        try authorizer.check(p, .manageSettings)
        return try await store.write { db in
            guard let agent = try AgentRecord.fetchOne(db, key: agentID) else { throw APIError.notFound("agent") }
            guard agent.revokedAt == nil else { throw APIError(.conflict, "agent_revoked", "a revoked agent cannot be bound") }
            let r = try checkBindable(resourceID, by: p, db)
            let before = try String.fetchOne(db, sql: "SELECT agentId FROM agentBindings WHERE resourceId = ?", arguments: [r.id])
            if let before, before != agent.id, !move {
                throw APIError(.conflict, "already_bound", "agent \(before) serves \(r.name); send move: true to hand it to this agent")
            }
            try bind(agent: agent.id, resource: r.id, by: p.username, db)
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "agent_binding_approved", resource: r.name,
                message: "agent \(agent.id) on \(agent.hostname) serves \(r.name)" + (before.map { $0 == agent.id ? " (already)" : " (was agent \($0))" } ?? ""),
                resourceId: r.id), in: db)
            return try bindings(of: agent.id, db)
        }
    }

    func removeBinding(agentID: String, resourceID: String, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        try await store.write { db in
            try checkBindable(resourceID, by: p, db)
            try db.execute(sql: "DELETE FROM agentBindings WHERE agentId = ? AND resourceId = ?", arguments: [agentID, resourceID])
            guard db.changesCount == 1 else { throw APIError.notFound("binding") }
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "agent_binding_removed",
                message: "agent \(agentID) no longer serves resource \(resourceID)", resourceId: resourceID), in: db)
        }
    }
}
