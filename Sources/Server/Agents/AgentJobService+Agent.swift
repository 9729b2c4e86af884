import Foundation
import Shared

/// The agent's side of the queue (poll, renew, result) and the sweep of jobs nobody waits on.
extension AgentJobService {
    /// Offers the agent's queued jobs to it (at most `limit`); each must be taken by a renewal.
    func offer(_ agentID: String, limit: Int = 8) async throws -> [AgentJob] {
        let generation = hub.signal(agentID).current
        guard hub.mayHaveJobs(agentID) else { return [] }
        let at = now()
        let rows = try await jobs.offer(agentID: agentID, limit: limit, at: at, until: at.addingTimeInterval(settings.offerSeconds))
        if rows.isEmpty { hub.foundEmpty(agentID, generation: generation) }
        // Waiters learn the offer's deadline (an offer not taken in time is queued again).
        if !rows.isEmpty { hub.jobs(of: agentID).poke() }
        return rows.map {
            AgentJob(id: $0.id, leaseId: $0.leaseId ?? "", leaseSeconds: Int(settings.leaseSeconds), operation: $0.operation,
                encapsulatedKey: $0.encapsulatedKey, ciphertext: $0.ciphertext)
        }
    }

    /// Takes an offer or extends a live lease; false when the lease is not the job's current one or has ended.
    func renew(_ agentID: String, job: String, lease: String) async throws -> Bool {
        let at = now()
        let ok = try await jobs.renew(agentID: agentID, job: job, lease: lease, at: at, until: at.addingTimeInterval(settings.leaseSeconds))
        if ok { hub.jobs(of: agentID).poke() }
        return ok
    }

    /// Takes the answer once per lease; the same answer again is acknowledged without effect.
    func accept(_ agentID: String, job: String, _ r: ResultRequest) async throws -> AgentJobAcceptance {
        let text = String(decoding: try JSONEncoder().encode(r.response), as: UTF8.self)
        let outcome = try await jobs.accept(agentID: agentID, job: job, lease: r.leaseId, result: text)
        if outcome == .accepted { hub.jobs(of: agentID).poke() }
        return outcome
    }

    /// Ends jobs past their deadline (queued too long, or a lease that ran out); at start-up
    /// (`all`), every job not ended: no task waits on one yet. Returns how many ended.
    @discardableResult
    func sweep(all: Bool = false) async throws -> Int {
        let ended = try await jobs.sweep(at: now(), grace: settings.leaseSeconds, all: all)
        Set(ended).forEach { hub.jobs(of: $0).poke() }
        return ended.count
    }

    /// Revokes the agent (its jobs end with it, audited as `event`) and wakes whoever waits on
    /// them or on its polls. False when there is no such agent.
    func revoke(_ agentID: String, audit event: @Sendable (AgentRecord) -> AuditEvent) async throws -> Bool {
        guard try await agents.revoke(agentID, at: now(), audit: event) != nil else { return false }
        hub.signal(agentID).poke()
        hub.jobs(of: agentID).poke()
        return true
    }
}
