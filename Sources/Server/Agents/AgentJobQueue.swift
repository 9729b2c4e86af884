import Foundation
import ServiceLifecycle
import Shared

/// What the agent plugin needs: hand a job to an agent and wait for its answer.
protocol AgentJobQueue: Sendable {
    func run(_ agentID: String, _ job: ResetJob) async throws(ResetFailure) -> PluginResponse
}

/// Jobs for agents. A job is sealed to one agent and offered to it alone. The agent must take the
/// offer (its first renewal) before it runs the job; an offer not taken in `offerSeconds` (a poll
/// answer that never arrived) goes back to the queue, which is safe since the agent never ran it.
/// The waiting reset learns the answer, or that the agent never took the job (unreachable, safe to
/// retry), or that a taken lease ran out unanswered (outcome unknown: reconcile, never a blind
/// re-run). Waits sleep on the agent's signal until the job's next deadline; nothing polls.
struct AgentJobService: AgentJobQueue {
    struct Settings: Sendable {
        var queueSeconds: Double = 600
        var offerSeconds: Double = 10
        var leaseSeconds: Double = 60
    }

    let jobs: any AgentJobStore
    let agents: any AgentStore
    let settings: Settings
    let hub: AgentHub
    let now: @Sendable () -> Date

    func run(_ agentID: String, _ job: ResetJob) async throws(ResetFailure) -> PluginResponse {
        let id = newID()
        let carriesNew = job.operation == .reset && job.newPassword != nil
        if carriesNew { try job.exposure?.willSend() }
        try await queue(id, agentID, job)
        hub.signal(agentID).poke()
        let changed = hub.jobs(of: agentID)
        while true {
            let seen = changed.current
            let row: AgentJobRow?
            do { row = try await jobs.job(id) } catch { throw await unreadable(id, error) }
            guard var row else { throw ResetFailure(.outcomeUnknown, "the agent job disappeared") }
            if carriesNew && row.state.taken { job.exposure?.markReached() }
            if let due = deadline(row), due < now() {
                let before = row.state
                let at = now()
                let after: AgentJobRow?
                do { after = try await jobs.settle(id, at: at) } catch { throw await unreadable(id, error) }
                guard let after else { throw ResetFailure(.outcomeUnknown, "the agent job disappeared") }
                row = after
                if carriesNew && row.state.taken { job.exposure?.markReached() }
                if before == .offered && row.state == .queued { hub.signal(agentID).poke() }
                if before == .queued && row.state == .cancelled && row.queueDeadline < at {
                    throw ResetFailure(.unreachable, "the agent did not take the job within \(Int(settings.queueSeconds)) s")
                }
            }
            if let end = try end(row) {
                if carriesNew { try job.exposure?.sent() }
                return end
            }
            guard let due = deadline(row) else { continue }
            if Task.isShuttingDownGracefully || Task.isCancelled { throw await stopWaiting(id) }
            let left = max(0.01, due.timeIntervalSince(now()) + 0.005)
            // A graceful shutdown or a cancelled reset ends the sleep at once (then `stopWaiting`).
            try? await cancelWhenGracefulShutdown {
                await changed.wait(after: seen, timeout: .milliseconds(Int64(min(left, 86_400) * 1000)))
            }
        }
    }

    private func queue(_ id: String, _ agentID: String, _ job: ResetJob) async throws(ResetFailure) {
        do {
            guard let agent = try await agents.agent(agentID), agent.revokedAt == nil else {
                throw ResetFailure(.unreachable, "the agent \(agentID) is gone or revoked")
            }
            let sealed = try AgentWire.seal(try job.wireJSON(), to: try Curve25519KeyAgreementKey(agent.sealingKey), jobID: id)
            let at = now()
            let row = AgentJobRow(id: id, agentId: agentID, operation: job.operation.rawValue, encapsulatedKey: sealed.encapsulatedKey,
                ciphertext: sealed.ciphertext, createdAt: at, queueDeadline: at.addingTimeInterval(settings.queueSeconds))
            guard try await jobs.enqueue(row) else { throw ResetFailure(.unreachable, "the agent \(agentID) is gone or revoked") }
        } catch let e as ResetFailure { throw e } catch let e as StoreError where e.code == .takenOver {
            throw ResetFailure(.unreachable, "the job was not queued: \(e.message)")
        } catch {
            throw ResetFailure(.protocolError, "cannot queue the agent job: \(Self.describe(error))")
        }
    }

    /// When an open job's state next moves by itself: its queue deadline or its lease's end.
    private func deadline(_ row: AgentJobRow) -> Date? {
        switch row.state {
        case .queued: return row.queueDeadline
        // A lease without an end (never written so) is due at once, as the store settles it.
        case .offered, .leased: return row.leaseExpiresAt ?? Date(timeIntervalSince1970: 0)
        default: return nil
        }
    }

    /// An ended job's answer or failure; nil while it is open.
    private func end(_ row: AgentJobRow) throws(ResetFailure) -> PluginResponse? {
        switch row.state {
        case .queued, .offered, .leased: return nil
        case .done:
            guard let text = row.result, let r = try? JSONDecoder().decode(PluginResponse.self, from: Data(text.utf8)) else {
                throw ResetFailure(.protocolError, "the agent's answer is not readable")
            }
            return r
        case .expired: throw ResetFailure(.outcomeUnknown, "the agent's lease ran out without an answer")
        case .cancelled: throw ResetFailure(.unreachable, "the job was cancelled before the agent took it (agent revoked or job expired)")
        case .revoked: throw ResetFailure(.outcomeUnknown, "the agent was revoked while it held the job")
        }
    }

    /// The server is stopping: a job the agent has not taken is withdrawn (unreachable: the engine
    /// retries it after the restart); one it holds is in doubt (reconcile settles it later).
    func stopWaiting(_ id: String) async -> ResetFailure {
        (try? await jobs.withdraw(id)) == true
            ? ResetFailure(.unreachable, "the server stopped before the agent took the job")
            : ResetFailure(.outcomeUnknown, "the server stopped while the agent held the job")
    }

    /// The job cannot be read: withdrawn if the agent has not taken it (safe to retry), else in doubt.
    private func unreadable(_ id: String, _ error: any Error) async -> ResetFailure {
        (try? await jobs.withdraw(id)) == true
            ? ResetFailure(.unreachable, "the agent job could not be read and was withdrawn: \(Self.describe(error))")
            : ResetFailure(.outcomeUnknown, "the agent job could not be read: \(Self.describe(error))")
    }

    static func describe(_ error: any Error) -> String {
        (error as? StoreError)?.description ?? ResetEngine.describe(error)
    }
}
