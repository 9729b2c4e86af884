import Foundation
import NIOConcurrencyHelpers
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// The reset waiting on an agent job sleeps until the job changes or its next deadline: it reads
/// the store when woken, never on a timer.
@Suite struct AgentJobWaitTests {
    /// Counts the waiter's reads of the job.
    struct CountingJobs: AgentJobStore {
        let base: any AgentJobStore
        let reads = NIOLockedValueBox(0)
        func enqueue(_ job: AgentJobRow) async throws -> Bool { try await base.enqueue(job) }
        func job(_ id: String) async throws -> AgentJobRow? {
            reads.withLockedValue { $0 += 1 }
            return try await base.job(id)
        }
        func settle(_ id: String, at: Date) async throws -> AgentJobRow? { try await base.settle(id, at: at) }
        func withdraw(_ id: String) async throws -> Bool { try await base.withdraw(id) }
        func offer(agentID: String, limit: Int, at: Date, until: Date) async throws -> [AgentJobRow] {
            try await base.offer(agentID: agentID, limit: limit, at: at, until: until)
        }
        func renew(agentID: String, job: String, lease: String, at: Date, until: Date) async throws -> Bool {
            try await base.renew(agentID: agentID, job: job, lease: lease, at: at, until: until)
        }
        func accept(agentID: String, job: String, lease: String, result: String) async throws -> AgentJobAcceptance {
            try await base.accept(agentID: agentID, job: job, lease: lease, result: result)
        }
        func sweep(at: Date, grace: TimeInterval, all: Bool) async throws -> [String] { try await base.sweep(at: at, grace: grace, all: all) }
    }

    static let verify = ResetJob(operation: .verify, resource: [:], account: ["LOGINNAME": "svc"], currentPassword: Secret("P-1"),
        settings: ResetSettings())

    func service(_ h: Harness, queueSeconds: Double, offerSeconds: Double = 30, leaseSeconds: Double = 60) async throws -> (AgentJobService, CountingJobs) {
        let store = h.custody.store
        try await store.write { db in try StoreBackend.agent("a-1", at: Date()).insert(db) }
        let jobs = CountingJobs(base: store.agentJobs)
        let s = AgentJobService(jobs: jobs, agents: store.agents, settings: .init(queueSeconds: queueSeconds, offerSeconds: offerSeconds, leaseSeconds: leaseSeconds),
            hub: AgentHub(), now: h.custody.now)
        return (s, jobs)
    }

    @Test func aJobNobodyTakesEndsAtItsDeadlineAfterTwoReads() async throws {
        let (s, jobs) = try await service(try await Harness.make(), queueSeconds: 3)
        let failure: ResetFailure? = await { do throws(ResetFailure) { _ = try await s.run("a-1", Self.verify); return nil } catch { return error } }()
        #expect(failure?.code == .unreachable, "\(String(describing: failure))")
        // A 500 ms poll would have read it six times or more in 3 s.
        #expect(jobs.reads.withLockedValue { $0 } <= 3, "read when queued and at the deadline, not on a timer")
    }

    @Test func theWaiterWakesWhenTheAgentAnswersNotAtTheDeadline() async throws {
        // Every deadline an hour away: only the answer can end the wait in time, however loaded the machine.
        let (s, jobs) = try await service(try await Harness.make(), queueSeconds: 3600, offerSeconds: 3600, leaseSeconds: 3600)
        let started = ContinuousClock.now
        let waiting = Task { try await s.run("a-1", Self.verify) }
        var offer: AgentJob?
        for _ in 0..<200 where offer == nil {
            offer = try await s.offer("a-1").first
            if offer == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let o = try #require(offer)
        #expect(try await s.renew("a-1", job: o.id, lease: o.leaseId))
        #expect(try await s.accept("a-1", job: o.id, ResultRequest(leaseId: o.leaseId, response: .success("checked"))) == .accepted)
        let r = try await waiting.value
        #expect(r.ok && r.message == "checked")
        #expect(ContinuousClock.now - started < .seconds(600), "woken by the answer, not at a deadline an hour on")
        #expect(jobs.reads.withLockedValue { $0 } <= 5, "woken by the offer, the renewal and the answer only")
    }
}
