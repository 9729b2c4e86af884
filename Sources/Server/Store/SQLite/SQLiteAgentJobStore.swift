import Foundation
import GRDB

/// `AgentJobStore` on SQLite: table `agentJobs`, times as REAL seconds since 1970.
struct SQLiteAgentJobStore: AgentJobStore {
    let db: DatabasePool

    func enqueue(_ j: AgentJobRow) async throws -> Bool {
        try await db.write { db in
            try db.execute(sql: """
                INSERT INTO agentJobs(id, agentId, operation, encapsulatedKey, ciphertext, state, createdAt, queueDeadline)
                SELECT ?, ?, ?, ?, ?, 'queued', ?, ? WHERE EXISTS (SELECT 1 FROM agents WHERE id = ? AND revokedAt IS NULL)
                """, arguments: [j.id, j.agentId, j.operation, j.encapsulatedKey, j.ciphertext, j.createdAt.seconds, j.queueDeadline.seconds,
                    j.agentId])
            return db.changesCount == 1
        }
    }

    func job(_ id: String) async throws -> AgentJobRow? {
        try await db.read { db in try Self.row(id, db) }
    }

    func settle(_ id: String, at: Date) async throws -> AgentJobRow? {
        try await db.write { db in
            let t = at.seconds
            try db.execute(sql: """
                UPDATE agentJobs SET
                  state = CASE state WHEN 'offered' THEN 'queued' WHEN 'leased' THEN 'expired' ELSE 'cancelled' END,
                  ciphertext = CASE state WHEN 'offered' THEN ciphertext ELSE x'' END,
                  leaseId = CASE state WHEN 'offered' THEN NULL ELSE leaseId END,
                  leaseExpiresAt = CASE state WHEN 'offered' THEN NULL ELSE leaseExpiresAt END
                WHERE id = ? AND ((state = 'queued' AND queueDeadline < ?) OR (state IN ('offered', 'leased') AND COALESCE(leaseExpiresAt, 0) < ?))
                """, arguments: [id, t, t])
            return try Self.row(id, db)
        }
    }

    func withdraw(_ id: String) async throws -> Bool {
        try await db.write { db in
            try db.execute(sql: "UPDATE agentJobs SET state = 'cancelled', ciphertext = x'' WHERE id = ? AND state IN ('queued', 'offered')",
                arguments: [id])
            return db.changesCount == 1
        }
    }

    func offer(agentID: String, limit: Int, at: Date, until: Date) async throws -> [AgentJobRow] {
        try await db.write { db in
            try db.execute(sql: """
                UPDATE agentJobs SET state = 'queued', leaseId = NULL, leaseExpiresAt = NULL
                WHERE agentId = ? AND state = 'offered' AND COALESCE(leaseExpiresAt, 0) < ?
                """, arguments: [agentID, at.seconds])
            let ids = try String.fetchAll(db, sql: "SELECT id FROM agentJobs WHERE agentId = ? AND state = 'queued' ORDER BY createdAt, id LIMIT ?",
                arguments: [agentID, limit])
            return try ids.compactMap { id in
                try db.execute(sql: "UPDATE agentJobs SET state = 'offered', leaseId = ?, leaseExpiresAt = ? WHERE id = ? AND state = 'queued'",
                    arguments: [newID(), until.seconds, id])
                return try Self.row(id, db)
            }
        }
    }

    func renew(agentID: String, job: String, lease: String, at: Date, until: Date) async throws -> Bool {
        try await db.write { db in
            try db.execute(sql: """
                UPDATE agentJobs SET state = 'leased', leaseExpiresAt = ?
                WHERE id = ? AND agentId = ? AND leaseId = ? AND state IN ('offered', 'leased') AND leaseExpiresAt >= ?
                """, arguments: [until.seconds, job, agentID, lease, at.seconds])
            return db.changesCount == 1
        }
    }

    func accept(agentID: String, job: String, lease: String, result: String) async throws -> AgentJobAcceptance {
        try await db.write { db in
            guard let j = try Self.row(job, db), j.agentId == agentID, j.leaseId == lease else { return .refused }
            switch j.state {
            case .done: return .duplicate
            case .leased:
                try db.execute(sql: "UPDATE agentJobs SET state = 'done', result = ?, ciphertext = x'' WHERE id = ? AND state = 'leased'",
                    arguments: [result, job])
                return .accepted
            default: return .refused
            }
        }
    }

    func sweep(at: Date, grace: TimeInterval, all: Bool) async throws -> [String] {
        try await db.write { db in
            let due = all ? "state IN ('queued', 'offered', 'leased')"
                : "(state = 'queued' AND queueDeadline < :at) OR (state IN ('offered', 'leased') AND COALESCE(leaseExpiresAt, 0) < :at - :grace)"
            let args: StatementArguments = all ? [:] : ["at": at.seconds, "grace": grace]
            let agents = try String.fetchAll(db, sql: "SELECT agentId FROM agentJobs WHERE \(due)", arguments: args)
            try db.execute(sql: """
                UPDATE agentJobs SET state = CASE WHEN state = 'leased' THEN 'expired' ELSE 'cancelled' END, ciphertext = x'' WHERE \(due)
                """, arguments: args)
            return agents
        }
    }

    /// Revocation's part, inside the agent store's transaction: what the agent has not taken is
    /// cancelled, a job it holds is `revoked` (its waiter ends at once as outcome unknown).
    static func revokeJobs(agentID: String, _ db: Database) throws {
        try db.execute(sql: """
            UPDATE agentJobs SET state = CASE WHEN state = 'leased' THEN 'revoked' ELSE 'cancelled' END, ciphertext = x''
            WHERE agentId = ? AND state IN ('queued', 'offered', 'leased')
            """, arguments: [agentID])
    }

    static func row(_ id: String, _ db: Database) throws -> AgentJobRow? {
        try Row.fetchOne(db, sql: "SELECT * FROM agentJobs WHERE id = ?", arguments: [id]).map { r throws in
            AgentJobRow(id: r["id"], agentId: r["agentId"], operation: r["operation"], encapsulatedKey: r["encapsulatedKey"],
                ciphertext: r["ciphertext"], state: try StoreError.decode(AgentJobState.self, r["state"]), leaseId: r["leaseId"],
                leaseExpiresAt: (r["leaseExpiresAt"] as Double?).map(Date.init(timeIntervalSince1970:)), result: r["result"],
                createdAt: Date(timeIntervalSince1970: r["createdAt"]), queueDeadline: Date(timeIntervalSince1970: r["queueDeadline"]))
        }
    }
}
