import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `AgentStore` must do.
@Suite struct AgentStoreConformance {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: StoreBackend.names("agents"))
    func agentsAreListedOldestFirstAndRecordTheirContactAndVersion(_ backend: String) async throws {
        let b = try await StoreBackend.make(backend)
        try await b.addAgent(StoreBackend.agent("a-2", at: t0.addingTimeInterval(5)))
        try await b.addAgent(StoreBackend.agent("a-1", at: t0))
        #expect(try await b.agents.agents().map(\.id) == ["a-1", "a-2"])
        #expect(try await b.agents.agent("nobody") == nil)
        try await b.agents.recordContact(agentID: "a-1", nonce: "a-1:n1", at: t0.addingTimeInterval(60), pruneBefore: nil)
        try await b.agents.setVersion(agentID: "a-1", "2.0")
        let a = try #require(try await b.agents.agent("a-1"))
        #expect(a.lastSeenAt == t0.addingTimeInterval(60).seconds && a.version == "2.0")
        #expect(try await b.agents.agent("a-2")?.lastSeenAt == t0.addingTimeInterval(5).seconds, "only the agent that called")
    }

    @Test(arguments: StoreBackend.names("agents"))
    func noncesAreKeptForTheWindowAndPrunedOnRequest(_ backend: String) async throws {
        let b = try await StoreBackend.make(backend)
        try await b.addAgent(StoreBackend.agent("a-1", at: t0))
        try await b.agents.recordContact(agentID: "a-1", nonce: "a-1:old", at: t0, pruneBefore: nil)
        try await b.agents.recordContact(agentID: "a-1", nonce: "a-1:mid", at: t0.addingTimeInterval(300), pruneBefore: nil)
        #expect(try await b.agents.nonces(since: t0.addingTimeInterval(100)).map(\.nonce) == ["a-1:mid"])
        #expect(Set(try await b.agents.nonces(since: t0).map(\.nonce)) == ["a-1:old", "a-1:mid"])
        try await b.agents.recordContact(agentID: "a-1", nonce: "a-1:new", at: t0.addingTimeInterval(900),
            pruneBefore: t0.addingTimeInterval(200))
        let kept = try await b.agents.nonces(since: .distantPast)
        #expect(Set(kept.map(\.nonce)) == ["a-1:mid", "a-1:new"], "pruned before the given time only")
        #expect(kept.first { $0.nonce == "a-1:new" }?.at == t0.addingTimeInterval(900))
        let replay = try await b.agents.recordContact(agentID: "a-1", nonce: "a-1:new", at: t0.addingTimeInterval(950), pruneBefore: nil)
        #expect(!replay, "a nonce stored already is a replay")
        #expect(try await b.agents.agent("a-1")?.lastSeenAt == t0.addingTimeInterval(900).seconds, "and a replay changes nothing")
    }

    @Test(arguments: StoreBackend.names("agents"))
    func revokingEndsTheAgentsJobsAndAuditsInOneStep(_ backend: String) async throws {
        let b = try await StoreBackend.make(backend)
        try await b.addAgent(StoreBackend.agent("a-1", at: t0))
        try await b.addAgent(StoreBackend.agent("a-2", at: t0))
        for (id, agent) in [("q", "a-1"), ("o", "a-1"), ("l", "a-1"), ("d", "a-1"), ("other", "a-2")] {
            #expect(try await b.agentJobs.enqueue(StoreBackend.job(id, agent: agent, at: t0)))
        }
        let offered = try await b.agentJobs.offer(agentID: "a-1", limit: 3, at: t0, until: t0.addingTimeInterval(10))
        #expect(offered.map(\.id) == ["d", "l", "o"], "oldest first, then by id")
        let lease = { (id: String) in offered.first { $0.id == id }!.leaseId! }
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "l", lease: lease("l"), at: t0, until: t0.addingTimeInterval(60)))
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "d", lease: lease("d"), at: t0, until: t0.addingTimeInterval(60)))
        #expect(try await b.agentJobs.accept(agentID: "a-1", job: "d", lease: lease("d"), result: "{}") == .accepted)
        let at = t0.addingTimeInterval(30)
        let revoked = try await b.agents.revoke("a-1", at: at) { AuditEvent(user: "root", ip: "test", operation: "agent_revoked", message: $0.id) }
        #expect(revoked?.revokedAt == at.seconds)
        var states: [String: AgentJobState] = [:]
        for id in ["q", "o", "l", "d", "other"] { states[id] = try await b.agentJobs.job(id)?.state }
        #expect(states == ["q": .cancelled, "o": .cancelled, "l": .revoked, "d": .done, "other": .queued])
        #expect(try await b.agentJobs.job("l")?.ciphertext.isEmpty == true, "the sealed job is dropped")
        let again = try await b.agents.revoke("a-1", at: at.addingTimeInterval(60)) { _ in
            AuditEvent(user: "root", ip: "test", operation: "agent_revoked", message: "again")
        }
        #expect(again?.revokedAt == at.seconds, "the first revocation's time stays")
        #expect(try await b.agents.revoke("nobody", at: at) { _ in AuditEvent(user: "root", ip: "test", operation: "agent_revoked") } == nil)
        #expect(try await b.auditOperations().filter { $0 == "agent_revoked" }.count == 2)
        #expect(try await b.agentJobs.enqueue(StoreBackend.job("late", agent: "a-1", at: at)) == false, "a revoked agent gets no job")
    }
}
