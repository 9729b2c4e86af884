import Foundation
import GRDB
import ServiceLifecycle
import Shared

/// Jobs for agents. A job is sealed to one agent and offered to it alone. The agent must take the
/// offer (its first renewal) before it runs the job; an offer not taken in `agentOfferSeconds` (a
/// poll answer that never arrived) goes back to the queue, which is safe since the agent never ran
/// it. The waiting reset learns the answer, or that the agent never took the job (unreachable,
/// safe to retry), or that a taken lease ran out unanswered (outcome unknown: reconcile, never a
/// blind re-run).
extension Custody {
    /// Sends `job` to the agent and waits for its answer.
    func runAgentJob(_ agentID: String, _ job: ResetJob) async throws(ResetFailure) -> PluginResponse {
        let id = newID()
        let carriesNew = job.operation == .reset && job.newPassword != nil
        if carriesNew { try job.exposure?.willSend() }
        do {
            try await store.write { db in
                guard let agent = try AgentRecord.fetchOne(db, key: agentID), agent.revokedAt == nil else {
                    throw ResetFailure(.unreachable, "the agent \(agentID) is gone or revoked")
                }
                let key = try Curve25519KeyAgreementKey(agent.sealingKey)
                let sealed = try AgentWire.seal(try job.wireJSON(), to: key, jobID: id)
                try db.execute(sql: """
                    INSERT INTO agentJobs(id, agentId, operation, encapsulatedKey, ciphertext, state, createdAt, queueDeadline)
                    VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)
                    """, arguments: [id, agentID, job.operation.rawValue, sealed.encapsulatedKey, sealed.ciphertext, now().seconds,
                        now().seconds + config.agentQueueSeconds])
            }
        } catch let e as ResetFailure { throw e } catch { throw ResetFailure(.protocolError, "cannot queue the agent job: \(Self.describe(error))") }
        agentHub.signal(agentID).poke()
        while true {
            let outcome: Result<PluginResponse, ResetFailure>?
            let state: String
            // A read first: the writer is taken only when the job's state has to move.
            if let seen = (try? await store.read({ db in try stillWaiting(id, db) })) ?? nil {
                if carriesNew && seen == "leased" { job.exposure?.markReached() }
                if Task.isShuttingDownGracefully || Task.isCancelled { throw await stopWaiting(id) }
                await agentHub.jobEnded.wait(timeout: .milliseconds(500))
                continue
            }
            do {
                (state, outcome) = try await store.write { db -> (String, Result<PluginResponse, ResetFailure>?) in
                    guard let row = try Row.fetchOne(db, sql: "SELECT * FROM agentJobs WHERE id = ?", arguments: [id]) else {
                        return ("gone", .failure(ResetFailure(.outcomeUnknown, "the agent job disappeared")))
                    }
                    return (row["state"], try agentJobStep(row, agentID, db))
                }
            } catch { throw ResetFailure(.outcomeUnknown, "the agent job could not be read: \(Self.describe(error))") }
            // Taken by the agent (or past it): from here the new password may have reached the target.
            if carriesNew && ["leased", "done", "expired", "revoked"].contains(state) { job.exposure?.markReached() }
            switch outcome {
            case .success(let r)?:
                if carriesNew { try job.exposure?.sent() }
                return r
            case .failure(let f)?: throw f
            case nil:
                if Task.isShuttingDownGracefully || Task.isCancelled { throw await stopWaiting(id) }
                await agentHub.jobEnded.wait(timeout: .milliseconds(500))
            }
        }
    }

    /// The job's state while it only waits (queued, offered or leased within its time); nil when it has to move or has ended.
    private func stillWaiting(_ id: String, _ db: Database) throws -> String? {
        guard let row = try Row.fetchOne(db, sql: "SELECT state, leaseExpiresAt, queueDeadline FROM agentJobs WHERE id = ?", arguments: [id])
        else { return nil }
        let at = now().seconds
        switch row["state"] as String {
        case "queued" where at <= row["queueDeadline"]: return "queued"
        case "offered" where at <= row["leaseExpiresAt"] ?? 0: return "offered"
        case "leased" where at <= row["leaseExpiresAt"] ?? 0: return "leased"
        default: return nil
        }
    }

    /// One look at a job the server waits on: its answer, its end, or nil to go on waiting.
    private func agentJobStep(_ row: Row, _ agentID: String, _ db: Database) throws -> Result<PluginResponse, ResetFailure>? {
        let id: String = row["id"]
        let at = now().seconds
        switch row["state"] as String {
        case "done":
            let text: String = row["result"]
            guard let r = try? JSONDecoder().decode(PluginResponse.self, from: Data(text.utf8)) else {
                return .failure(ResetFailure(.protocolError, "the agent's answer is not readable"))
            }
            return .success(r)
        case "queued" where at > row["queueDeadline"]:
            try db.execute(sql: "UPDATE agentJobs SET state = 'cancelled', ciphertext = x'' WHERE id = ?", arguments: [id])
            return .failure(ResetFailure(.unreachable, "the agent did not take the job within \(Int(config.agentQueueSeconds)) s"))
        case "offered" where at > row["leaseExpiresAt"] ?? 0:
            try db.execute(sql: "UPDATE agentJobs SET state = 'queued', leaseId = NULL, leaseExpiresAt = NULL WHERE id = ?",
                arguments: [id])
            db.afterNextTransaction { _ in agentHub.signal(agentID).poke() }
            return nil
        case "leased" where at > row["leaseExpiresAt"] ?? 0:
            try db.execute(sql: "UPDATE agentJobs SET state = 'expired', ciphertext = x'' WHERE id = ?", arguments: [id])
            return .failure(ResetFailure(.outcomeUnknown, "the agent's lease ran out without an answer"))
        case "expired":
            return .failure(ResetFailure(.outcomeUnknown, "the agent's lease ran out without an answer"))
        case "cancelled":
            return .failure(ResetFailure(.unreachable, "the job was cancelled before the agent took it (agent revoked or job expired)"))
        case "revoked":
            return .failure(ResetFailure(.outcomeUnknown, "the agent was revoked while it held the job"))
        default:
            return nil
        }
    }

    /// The server is stopping: a job the agent has not taken is withdrawn (unreachable: the engine
    /// retries it after the restart); one it holds is in doubt (reconcile settles it later).
    func stopWaiting(_ id: String) async -> ResetFailure {
        let withdrawn = try? await store.write { db -> Bool in
            try db.execute(sql: "UPDATE agentJobs SET state = 'cancelled', ciphertext = x'' WHERE id = ? AND state IN ('queued', 'offered')",
                arguments: [id])
            return db.changesCount == 1
        }
        return withdrawn == true
            ? ResetFailure(.unreachable, "the server stopped before the agent took the job")
            : ResetFailure(.outcomeUnknown, "the server stopped while the agent held the job")
    }

    /// Offers the agent's queued jobs to it (at most `limit`); each must be taken by a renewal.
    func leaseAgentJobs(_ agentID: String, limit: Int = 8) async throws -> [AgentJob] {
        let lease = config.agentLeaseSeconds
        return try await store.write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM agentJobs WHERE agentId = ? AND state = 'queued' ORDER BY createdAt LIMIT ?
                """, arguments: [agentID, limit])
            return try rows.map { row in
                let leaseID = newID()
                try db.execute(sql: "UPDATE agentJobs SET state = 'offered', leaseId = ?, leaseExpiresAt = ? WHERE id = ? AND state = 'queued'",
                    arguments: [leaseID, now().seconds + config.agentOfferSeconds, row["id"] as String])
                return AgentJob(id: row["id"], leaseId: leaseID, leaseSeconds: Int(lease), operation: row["operation"],
                    encapsulatedKey: row["encapsulatedKey"], ciphertext: row["ciphertext"])
            }
        }
    }

    /// Takes an offer or extends a live lease; false when the lease is not the job's current one or has ended.
    func renewAgentLease(_ agentID: String, job: String, lease: String) async throws -> Bool {
        try await store.write { db in
            try db.execute(sql: """
                UPDATE agentJobs SET state = 'leased', leaseExpiresAt = ?
                WHERE id = ? AND agentId = ? AND leaseId = ? AND state IN ('offered', 'leased') AND leaseExpiresAt >= ?
                """, arguments: [now().seconds + config.agentLeaseSeconds, job, agentID, lease, now().seconds])
            return db.changesCount == 1
        }
    }

    enum ResultOutcome: String { case accepted, duplicate, refused }

    /// Takes the answer once per lease; the same answer again is acknowledged without effect.
    func acceptAgentResult(_ agentID: String, job: String, _ r: ResultRequest) async throws -> ResultOutcome {
        let text = String(decoding: try JSONEncoder().encode(r.response), as: UTF8.self)
        let outcome = try await store.write { db -> ResultOutcome in
            guard let row = try Row.fetchOne(db, sql: "SELECT state, leaseId FROM agentJobs WHERE id = ? AND agentId = ?", arguments: [job, agentID]),
                row["leaseId"] as String? == r.leaseId
            else { return .refused }
            switch row["state"] as String {
            case "done": return .duplicate
            case "leased":
                try db.execute(sql: "UPDATE agentJobs SET state = 'done', result = ?, ciphertext = x'' WHERE id = ?", arguments: [text, job])
                return .accepted
            default: return .refused
            }
        }
        if outcome == .accepted { agentHub.jobEnded.poke() }
        return outcome
    }
}
