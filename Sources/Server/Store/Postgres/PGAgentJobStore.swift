import Foundation

/// `AgentJobStore` on PostgreSQL: the same states and transitions as SQLite's, shared by the
/// nodes, so an agent may poll any of them and a lease taken through one is renewed through another.
struct PGAgentJobStore: AgentJobStore {
    let db: PGDatabase
    static let empty = "''::bytea"

    /// Within a task's run, queued only while the run's claim holds (`PGTaskStore.requireHeld`), and
    /// named by the task, so a take-over withdraws it if the agent has not taken it.
    func enqueue(_ j: AgentJobRow) async throws -> Bool {
        let run = RunningTask.current
        return try await db.write { c in
            if let run, run.claim != nil { try await PGTaskStore.requireClaim(run, c) }
            return try await c.rows("""
                INSERT INTO agentJobs(id, agentId, operation, encapsulatedKey, ciphertext, state, createdAt, queueDeadline, taskId)
                SELECT ?, ?, ?, ?, ?, 'queued', ?, ?, ? WHERE EXISTS (SELECT 1 FROM agents WHERE id = ? AND revokedAt IS NULL) RETURNING 1
                """, [j.id, j.agentId, j.operation, j.encapsulatedKey, j.ciphertext, j.createdAt, j.queueDeadline, run?.id, j.agentId]).count == 1
        }
    }

    func job(_ id: String) async throws -> AgentJobRow? { try await db.read { c in try await Self.row(id, c) } }

    func settle(_ id: String, at: Date) async throws -> AgentJobRow? {
        try await db.write { c in
            try await c.execute("""
                UPDATE agentJobs SET
                  state = CASE state WHEN 'offered' THEN 'queued' WHEN 'leased' THEN 'expired' ELSE 'cancelled' END,
                  ciphertext = CASE state WHEN 'offered' THEN ciphertext ELSE \(Self.empty) END,
                  leaseId = CASE state WHEN 'offered' THEN NULL ELSE leaseId END,
                  leaseExpiresAt = CASE state WHEN 'offered' THEN NULL ELSE leaseExpiresAt END
                WHERE id = ? AND ((state = 'queued' AND queueDeadline < ?) OR (state IN ('offered', 'leased') AND COALESCE(leaseExpiresAt, 0) < ?))
                """, [id, at, at])
            return try await Self.row(id, c)
        }
    }

    func withdraw(_ id: String) async throws -> Bool {
        try await db.write { c in
            try await c.rows("""
                UPDATE agentJobs SET state = 'cancelled', ciphertext = \(Self.empty) WHERE id = ? AND state IN ('queued', 'offered') RETURNING 1
                """, [id]).count == 1
        }
    }

    func offer(agentID: String, limit: Int, at: Date, until: Date) async throws -> [AgentJobRow] {
        try await db.write { c in
            try await c.execute("""
                UPDATE agentJobs SET state = 'queued', leaseId = NULL, leaseExpiresAt = NULL
                WHERE agentId = ? AND state = 'offered' AND COALESCE(leaseExpiresAt, 0) < ?
                """, [agentID, at])
            let ids = try await c.column(String.self, "SELECT id FROM agentJobs WHERE agentId = ? AND state = 'queued' ORDER BY createdAt, id LIMIT ?",
                [agentID, limit])
            var out: [AgentJobRow] = []
            for id in ids {
                try await c.execute("UPDATE agentJobs SET state = 'offered', leaseId = ?, leaseExpiresAt = ? WHERE id = ? AND state = 'queued'",
                    [newID(), until, id])
                if let r = try await Self.row(id, c) { out.append(r) }
            }
            return out
        }
    }

    func renew(agentID: String, job: String, lease: String, at: Date, until: Date) async throws -> Bool {
        try await db.write { c in
            try await c.rows("""
                UPDATE agentJobs SET state = 'leased', leaseExpiresAt = ?
                WHERE id = ? AND agentId = ? AND leaseId = ? AND state IN ('offered', 'leased') AND leaseExpiresAt >= ? RETURNING 1
                """, [until, job, agentID, lease, at]).count == 1
        }
    }

    func accept(agentID: String, job: String, lease: String, result: String) async throws -> AgentJobAcceptance {
        try await db.write { c in
            guard let j = try await Self.row(job, c), j.agentId == agentID, j.leaseId == lease else { return .refused }
            switch j.state {
            case .done: return .duplicate
            case .leased:
                try await c.execute("UPDATE agentJobs SET state = 'done', result = ?, ciphertext = \(Self.empty) WHERE id = ? AND state = 'leased'",
                    [result, job])
                return .accepted
            default: return .refused
            }
        }
    }

    func sweep(at: Date, grace: TimeInterval, all: Bool) async throws -> [String] {
        try await db.write { c in
            let due = all ? "state IN ('queued', 'offered', 'leased')"
                : "(state = 'queued' AND queueDeadline < ?) OR (state IN ('offered', 'leased') AND COALESCE(leaseExpiresAt, 0) < ?)"
            let args: [any PGBindable] = all ? [] : [at, at.seconds - grace]
            let agents = try await c.column(String.self, "SELECT agentId FROM agentJobs WHERE \(due)", args)
            try await c.execute("""
                UPDATE agentJobs SET state = CASE WHEN state = 'leased' THEN 'expired' ELSE 'cancelled' END, ciphertext = \(Self.empty) WHERE \(due)
                """, args)
            return agents
        }
    }

    /// Revocation's part, inside the agent store's transaction (`SQLiteAgentJobStore.revokeJobs`).
    static func revokeJobs(agentID: String, _ c: PGConnection) async throws {
        try await c.execute("""
            UPDATE agentJobs SET state = CASE WHEN state = 'leased' THEN 'revoked' ELSE 'cancelled' END, ciphertext = \(empty)
            WHERE agentId = ? AND state IN ('queued', 'offered', 'leased')
            """, [agentID])
    }

    static func row(_ id: String, _ c: PGConnection) async throws -> AgentJobRow? {
        guard let r = try await c.row("SELECT * FROM agentJobs WHERE id = ?", [id]) else { return nil }
        return AgentJobRow(id: try r["id"], agentId: try r["agentId"], operation: try r["operation"], encapsulatedKey: try r["encapsulatedKey"],
            ciphertext: try r["ciphertext"], state: try StoreError.decode(AgentJobState.self, try r["state", as: String.self]),
            leaseId: try r["leaseId"], leaseExpiresAt: try r["leaseExpiresAt"], result: try r["result"], createdAt: try r["createdAt"],
            queueDeadline: try r["queueDeadline"])
    }
}
