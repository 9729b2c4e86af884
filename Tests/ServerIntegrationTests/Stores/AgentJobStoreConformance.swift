import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `AgentJobStore` must do: each transition a compare-and-set on the state.
@Suite struct AgentJobStoreConformance {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func backend(_ name: String) async throws -> StoreBackend {
        let b = try await StoreBackend.make(name)
        try await b.addAgent(StoreBackend.agent("a-1", at: t0))
        try await b.addAgent(StoreBackend.agent("a-2", host: "web02", at: t0))
        try await b.addAgent(StoreBackend.agent("gone", host: "web03", at: t0, revoked: t0))
        return b
    }

    @Test(arguments: StoreBackend.names("agentJobs"))
    func aJobIsQueuedOnlyForALiveAgentAndReadBackAsStored(_ name: String) async throws {
        let b = try await backend(name)
        let job = StoreBackend.job("j1", agent: "a-1", at: t0)
        #expect(try await b.agentJobs.enqueue(job))
        #expect(try await b.agentJobs.job("j1") == job)
        #expect(try await b.agentJobs.enqueue(StoreBackend.job("j2", agent: "gone", at: t0)) == false)
        #expect(try await b.agentJobs.enqueue(StoreBackend.job("j3", agent: "nobody", at: t0)) == false)
        #expect(try await b.agentJobs.job("j2") == nil)
        #expect(try await b.agentJobs.job("j3") == nil)
    }

    @Test(arguments: StoreBackend.names("agentJobs"))
    func offersGoToTheirAgentOnceAndAreTakenOnlyUnderTheirLeaseInTime(_ name: String) async throws {
        let b = try await backend(name)
        for (i, id) in ["j3", "j1", "j2"].enumerated() {
            #expect(try await b.agentJobs.enqueue(StoreBackend.job(id, agent: "a-1", at: t0.addingTimeInterval(Double(i)))))
        }
        #expect(try await b.agentJobs.offer(agentID: "a-2", limit: 8, at: t0, until: t0).isEmpty, "another agent's jobs")
        let until = t0.addingTimeInterval(10)
        let offered = try await b.agentJobs.offer(agentID: "a-1", limit: 2, at: t0, until: until)
        #expect(offered.map(\.id) == ["j3", "j1"], "oldest first, up to the limit")
        #expect(offered.allSatisfy { $0.state == .offered && $0.leaseExpiresAt == until && $0.leaseId != nil })
        #expect(Set(offered.compactMap(\.leaseId)).count == 2, "a lease id per job")
        #expect(try await b.agentJobs.offer(agentID: "a-1", limit: 8, at: t0, until: until).map(\.id) == ["j2"], "offered once")
        let j = offered[0], lease = try #require(j.leaseId)
        #expect(try await b.agentJobs.renew(agentID: "a-2", job: j.id, lease: lease, at: t0, until: t0 + 60) == false, "not its agent")
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: j.id, lease: "other", at: t0, until: t0 + 60) == false, "not its lease")
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: j.id, lease: lease, at: until + 1, until: t0 + 60) == false, "too late")
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: j.id, lease: lease, at: t0, until: t0 + 60))
        #expect(try await b.agentJobs.job(j.id)?.state == .leased)
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: j.id, lease: lease, at: t0 + 30, until: t0 + 90))
        #expect(try await b.agentJobs.job(j.id)?.leaseExpiresAt == t0 + 90, "a live lease is extended")
        let again = try await b.agentJobs.offer(agentID: "a-1", limit: 8, at: until + 1, until: until + 20)
        #expect(again.map(\.id) == ["j1", "j2"], "lapsed offers are offered again; the taken one is not")
        #expect(again.allSatisfy { $0.leaseId != offered[1].leaseId }, "under a new lease")
    }

    @Test(arguments: StoreBackend.names("agentJobs"))
    func anAnswerIsTakenOncePerLeaseFromItsAgentOnly(_ name: String) async throws {
        let b = try await backend(name)
        #expect(try await b.agentJobs.enqueue(StoreBackend.job("j", agent: "a-1", at: t0)))
        let offer = try #require(try await b.agentJobs.offer(agentID: "a-1", limit: 1, at: t0, until: t0 + 10).first)
        let lease = try #require(offer.leaseId)
        #expect(try await b.agentJobs.accept(agentID: "a-1", job: "j", lease: lease, result: "{}") == .refused, "an offer not taken")
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "j", lease: lease, at: t0, until: t0 + 60))
        #expect(try await b.agentJobs.accept(agentID: "a-2", job: "j", lease: lease, result: "{}") == .refused)
        #expect(try await b.agentJobs.accept(agentID: "a-1", job: "j", lease: "other", result: "{}") == .refused)
        #expect(try await b.agentJobs.accept(agentID: "a-1", job: "j", lease: lease, result: #"{"ok":true}"#) == .accepted)
        #expect(try await b.agentJobs.accept(agentID: "a-1", job: "j", lease: lease, result: #"{"ok":false}"#) == .duplicate)
        let done = try #require(try await b.agentJobs.job("j"))
        #expect(done.state == .done && done.result == #"{"ok":true}"# && done.ciphertext.isEmpty, "the first answer; the sealed job dropped")
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "j", lease: lease, at: t0, until: t0 + 60) == false, "ended")
    }

    @Test(arguments: StoreBackend.names("agentJobs"))
    func deadlinesMoveAJobOnlyOnceTheyAreDue(_ name: String) async throws {
        let b = try await backend(name)
        for id in ["q", "o", "l"] { #expect(try await b.agentJobs.enqueue(StoreBackend.job(id, agent: "a-1", at: t0, queueFor: 100))) }
        let offers = try await b.agentJobs.offer(agentID: "a-1", limit: 2, at: t0, until: t0 + 10)
        let l = try #require(offers.first { $0.id == "l" }), o = try #require(offers.first { $0.id == "o" })
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "l", lease: l.leaseId!, at: t0, until: t0 + 50))
        #expect(try await b.agentJobs.settle("o", at: t0 + 5)?.state == .offered, "not yet due")
        let requeued = try #require(try await b.agentJobs.settle("o", at: t0 + 11))
        #expect(requeued.state == .queued && requeued.leaseId == nil && requeued.ciphertext == o.ciphertext, "an untaken offer is queued again")
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "o", lease: o.leaseId!, at: t0 + 11, until: t0 + 60) == false,
            "its old lease is refused")
        #expect(try await b.agentJobs.settle("l", at: t0 + 40)?.state == .leased)
        #expect(try await b.agentJobs.settle("l", at: t0 + 51)?.state == .expired)
        #expect(try await b.agentJobs.settle("q", at: t0 + 100)?.state == .queued, "due only past the deadline")
        let cancelled = try #require(try await b.agentJobs.settle("q", at: t0 + 101))
        #expect(cancelled.state == .cancelled && cancelled.ciphertext.isEmpty)
        #expect(try await b.agentJobs.settle("nothing", at: t0) == nil)
    }

    @Test(arguments: StoreBackend.names("agentJobs"))
    func onlyAJobNotTakenIsWithdrawn(_ name: String) async throws {
        let b = try await backend(name)
        for id in ["q", "o", "l"] { #expect(try await b.agentJobs.enqueue(StoreBackend.job(id, agent: "a-1", at: t0))) }
        let offers = try await b.agentJobs.offer(agentID: "a-1", limit: 2, at: t0, until: t0 + 10)
        let l = try #require(offers.first { $0.id == "l" })
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "l", lease: l.leaseId!, at: t0, until: t0 + 50))
        #expect(try await b.agentJobs.withdraw("q"))
        #expect(try await b.agentJobs.withdraw("o"))
        #expect(try await b.agentJobs.withdraw("l") == false, "the agent holds it: in doubt, never withdrawn")
        #expect(try await b.agentJobs.job("l")?.state == .leased)
        #expect(try await b.agentJobs.job("o")?.state == .cancelled)
    }

    @Test(arguments: StoreBackend.names("agentJobs"))
    func theSweepEndsWhatIsPastDueAndAtStartUpEverythingOpen(_ name: String) async throws {
        let b = try await backend(name)
        #expect(try await b.agentJobs.enqueue(StoreBackend.job("q-old", agent: "a-1", at: t0, queueFor: 10)))
        #expect(try await b.agentJobs.enqueue(StoreBackend.job("l-old", agent: "a-2", at: t0)))
        #expect(try await b.agentJobs.enqueue(StoreBackend.job("l-live", agent: "a-1", at: t0 + 1)))
        #expect(try await b.agentJobs.enqueue(StoreBackend.job("q-live", agent: "a-1", at: t0 + 2)))
        let l2 = try #require(try await b.agentJobs.offer(agentID: "a-2", limit: 1, at: t0, until: t0 + 10).first)
        #expect(try await b.agentJobs.renew(agentID: "a-2", job: "l-old", lease: l2.leaseId!, at: t0, until: t0 + 20))
        let l1 = try #require(try await b.agentJobs.offer(agentID: "a-1", limit: 2, at: t0, until: t0 + 10).first { $0.id == "l-live" })
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "l-live", lease: l1.leaseId!, at: t0, until: t0 + 500))
        #expect(try await b.agentJobs.sweep(at: t0 + 40, grace: 10, all: false).sorted() == ["a-1", "a-2"])
        var states: [String: AgentJobState] = [:]
        for id in ["q-old", "l-old", "l-live", "q-live"] { states[id] = try await b.agentJobs.job(id)?.state }
        #expect(states == ["q-old": .cancelled, "l-old": .expired, "l-live": .leased, "q-live": .queued])
        #expect(try await b.agentJobs.sweep(at: t0 + 40, grace: 10, all: true).sorted() == ["a-1", "a-1"])
        for id in ["l-live", "q-live"] { states[id] = try await b.agentJobs.job(id)?.state }
        #expect(states["l-live"] == .expired && states["q-live"] == .cancelled, "at start-up no task waits on any job")
    }

    @Test(arguments: StoreBackend.names("agentJobs"))
    func aLeaseLivesToItsLastInstantAndAnEndedJobNeverMovesAgain(_ name: String) async throws {
        let b = try await backend(name)
        for id in ["d", "x"] { #expect(try await b.agentJobs.enqueue(StoreBackend.job(id, agent: "a-1", at: t0, queueFor: 5))) }
        let offers = try await b.agentJobs.offer(agentID: "a-1", limit: 2, at: t0, until: t0 + 10)
        let d = try #require(offers.first { $0.id == "d" }), x = try #require(offers.first { $0.id == "x" })
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "d", lease: d.leaseId!, at: t0 + 10, until: t0 + 30), "at the instant it ends")
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "x", lease: x.leaseId!, at: t0, until: t0 + 20))
        #expect(try await b.agentJobs.accept(agentID: "a-1", job: "d", lease: d.leaseId!, result: "{}") == .accepted)
        #expect(try await b.agentJobs.settle("d", at: t0 + 1000)?.state == .done, "done stays done")
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "x", lease: x.leaseId!, at: t0 + 21, until: t0 + 60) == false,
            "a lapsed lease is not revived")
        let expired = try #require(try await b.agentJobs.settle("x", at: t0 + 21))
        #expect(expired.state == .expired && expired.ciphertext.isEmpty, "the sealed job dropped")
        #expect(try await b.agentJobs.accept(agentID: "a-1", job: "x", lease: x.leaseId!, result: "{}") == .refused, "too late")
        #expect(try await b.agentJobs.settle("x", at: t0 + 1000)?.state == .expired)
        #expect(try await b.agentJobs.withdraw("x") == false)
        #expect(try await b.agentJobs.withdraw("d") == false)
        #expect(try await b.agentJobs.sweep(at: t0 + 1000, grace: 0, all: true).isEmpty, "nothing open")
    }

    @Test(arguments: StoreBackend.names("agentJobs"))
    func theSweepWaitsOutTheGraceAndCancelsAnOfferNeverTaken(_ name: String) async throws {
        let b = try await backend(name)
        for id in ["o", "l"] { #expect(try await b.agentJobs.enqueue(StoreBackend.job(id, agent: "a-1", at: t0))) }
        let offers = try await b.agentJobs.offer(agentID: "a-1", limit: 2, at: t0, until: t0 + 10)
        let l = try #require(offers.first { $0.id == "l" })
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: "l", lease: l.leaseId!, at: t0, until: t0 + 20))
        #expect(try await b.agentJobs.sweep(at: t0 + 15, grace: 10, all: false).isEmpty, "within the grace: its waiter settles it")
        #expect(try await b.agentJobs.sweep(at: t0 + 25, grace: 10, all: false) == ["a-1"], "the offer, past its grace")
        #expect(try await b.agentJobs.job("l")?.state == .leased)
        let o = try #require(try await b.agentJobs.job("o"))
        #expect(o.state == .cancelled && o.ciphertext.isEmpty, "never taken: cancelled, not in doubt")
        #expect(try await b.agentJobs.sweep(at: t0 + 31, grace: 10, all: false) == ["a-1"])
        #expect(try await b.agentJobs.job("l")?.state == .expired)
    }

    @Test(arguments: StoreBackend.names("agentJobs"))
    func aRevokedAgentsJobsEndAndItsAnswerIsRefused(_ name: String) async throws {
        let b = try await backend(name)
        for id in ["q", "l"] { #expect(try await b.agentJobs.enqueue(StoreBackend.job(id, agent: "a-1", at: t0))) }
        let l = try #require(try await b.agentJobs.offer(agentID: "a-1", limit: 1, at: t0, until: t0 + 10).first)
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: l.id, lease: l.leaseId!, at: t0, until: t0 + 60))
        _ = try await b.agents.revoke("a-1", at: t0 + 1) { AuditEvent(user: "root", ip: "test", operation: "agent_revoked", message: $0.id) }
        let held = try await b.agentJobs.job(l.id)?.state, other = try await b.agentJobs.job(l.id == "q" ? "l" : "q")?.state
        let states = [held, other]
        #expect(states == [.revoked, .cancelled], "held: in doubt; not taken: cancelled")
        #expect(try await b.agentJobs.accept(agentID: "a-1", job: l.id, lease: l.leaseId!, result: "{}") == .refused)
        #expect(try await b.agentJobs.renew(agentID: "a-1", job: l.id, lease: l.leaseId!, at: t0 + 2, until: t0 + 60) == false)
        #expect(try await b.agentJobs.enqueue(StoreBackend.job("late", agent: "a-1", at: t0 + 2)) == false)
    }
}
