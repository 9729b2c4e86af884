import Foundation
import GRDB
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Trust I for agents: answers the server cannot use after the agent took a job are unknown,
/// revocation ends every wait at once, agent tasks hold no reset worker, and orphaned jobs end.
@Suite struct TrustAgentTests {
    typealias P = AgentProtocolTests
    let p = AgentProtocolTests()

    func poll(_ api: API, _ a: FakeAgent, wait: Int = 1) async throws -> [AgentJob] {
        let r = try await p.send(api, "/poll", PollRequest(wait: wait, version: "t"), as: a, at: Date())
        return try JSONDecoder().decode(PollResponse.self, from: r.data).jobs
    }

    func take(_ api: API, _ a: FakeAgent) async throws -> AgentJob {
        for _ in 0..<30 {
            if let job = try await poll(api, a).first {
                #expect(try await p.send(api, "/jobs/\(job.id)/renew", LeaseRequest(leaseId: job.leaseId), as: a, at: Date()).status == .ok)
                return job
            }
        }
        throw NoJob()
    }

    struct NoJob: Error {}

    static let resetJob = ResetJob(operation: .reset, resource: ["RESOURCENAME": "web01"], account: ["LOGINNAME": "svc"],
        currentPassword: Secret("Old-Pass-1"), newPassword: Secret("New-Pass-2"), settings: ResetSettings())

    @Test func anUnknownCodeAfterTheAgentTookTheJobIsOutcomeUnknown() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            var a = FakeAgent()
            #expect(try await p.enroll(api, try await p.token(api, admin, h), &a, at: Date()).status == .created)
            var job = Self.resetJob
            job.exposure = ResetExposure()
            let plugin = AgentPlugin(queue: h.custody.agentJobs, agentID: a.id)
            let waiting = Task { [job] () -> ResetFailure? in
                do throws(ResetFailure) { _ = try await plugin.reset(job); return nil } catch { return error }
            }
            let taken = try await take(api, a)
            let weird = ResultRequest(leaseId: taken.leaseId, response: PluginResponse(ok: false, code: "notACode", message: "?"))
            #expect(try await p.send(api, "/jobs/\(taken.id)/result", weird, as: a, at: Date()).object["status"] as? String == "accepted")
            let failure = try #require(await waiting.value)
            #expect(job.exposure?.reached == true, "the agent took the sealed new password")
            #expect(ResetStateMachine.judge(failure, reached: true).code == .outcomeUnknown, "\(failure)")
        }
    }

    @Test(arguments: [false, true])
    func revokingTheAgentEndsTheWaitAtOnce(taken: Bool) async throws {
        let h = try await Harness.make(configure: {
            $0.agentLeaseSeconds = 600
            $0.agentQueueSeconds = 600
            $0.agentOfferSeconds = 600
        })
        try await h.run { api in
            let admin = try await api.admin()
            var a = FakeAgent()
            #expect(try await p.enroll(api, try await p.token(api, admin, h), &a, at: Date()).status == .created)
            var job = Self.resetJob
            job.exposure = ResetExposure()
            let agentID = a.id
            let started = ContinuousClock.now
            let waiting = Task { [job] () -> ResetFailure? in
                do throws(ResetFailure) { _ = try await h.custody.agentJobs.run(agentID, job); return nil } catch { return error }
            }
            if taken { _ = try await take(api, a) } else { try await Task.sleep(for: .milliseconds(300)) }
            #expect(try await api.call(.delete, "/agents/\(agentID)", token: admin).status == .noContent)
            let failure = try #require(await waiting.value)
            #expect(ContinuousClock.now - started < .seconds(60), "ended long before any lease or queue deadline")
            #expect(failure.code == (taken ? .outcomeUnknown : .unreachable), "\(failure)")
            #expect(job.exposure?.reached == taken)
        }
    }

    @Test func orphanedJobsEndAtTheirDeadlineAndAtStartUp() async throws {
        let h = try await Harness.make(configure: { $0.agentLeaseSeconds = 1 })
        let c = h.custody
        let at = Date().timeIntervalSince1970
        try await c.store.write { db in
            for (id, state, lease, deadline) in [("q-old", "queued", nil, at - 10), ("l-old", "leased", at - 5, at + 100),
                ("l-live", "leased", at + 100, at + 100), ("q-live", "queued", nil, at + 100)] as [(String, String, Double?, Double)]
            {
                try db.execute(sql: """
                    INSERT INTO agentJobs(id, agentId, operation, encapsulatedKey, ciphertext, state, leaseId, leaseExpiresAt, createdAt, queueDeadline)
                    VALUES (?, 'agent-x', 'reset', x'00', x'01', ?, 'l', ?, ?, ?)
                    """, arguments: [id, state, lease, at, deadline])
            }
        }
        func states() async throws -> [String: String] {
            try await c.store.read { db in
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, state FROM agentJobs").map { ($0["id"], $0["state"]) })
            }
        }
        try await c.agentJobs.sweep()
        #expect(try await states() == ["q-old": "cancelled", "l-old": "expired", "l-live": "leased", "q-live": "queued"])
        try await c.agentJobs.sweep(all: true)
        #expect(try await states() == ["q-old": "cancelled", "l-old": "expired", "l-live": "expired", "q-live": "cancelled"],
            "at start-up no task waits on any job")
    }

    /// Agent tasks wait apart: with one reset worker, rotations to an offline agent never block an agentless reset.
    @Test func agentTasksHoldNoResetWorkerWhileTheyWait() async throws {
        let h = try await Harness.make(configure: {
            $0.resetWorkers = 1
            $0.agentQueueSeconds = 600
        })
        try await h.run { api in
            let t = try await ScriptTarget.make(api)
            var a = FakeAgent()
            let rid = try await api.resource("agent-host", token: t.env.admin)
            #expect(try await p.enroll(api, try await p.token(api, t.env.admin, h, resourceId: rid), &a, at: Date()).status == .created)
            try await api.call(.put, "/resources/\(rid)/reset-config", token: t.env.admin, json: ["mode": "agent"])
            for i in 0..<3 {
                let aid = try await api.account(rid, "svc\(i)", password: "Svc-Pass-123", token: t.env.admin)
                let q = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: t.env.admin, json: ["resetType": "remote"])
                #expect(q.status == .accepted, "\(q.text)")
            }
            let parked = await eventually {
                let running = (try? await api.call(.get, "/tasks?state=running", token: t.env.admin).array) ?? []
                return running.contains { $0["via"] as? String == "agent" }
            }
            #expect(parked, "the agent tasks wait on their agent")
            let done = try await t.reset(api)
            #expect(done["state"] as? String == "succeeded", "the agentless reset ran while the agent tasks waited: \(done)")
            let waiting = try await api.call(.get, "/tasks?state=running", token: t.env.admin).array
            #expect(waiting.filter { $0["via"] as? String == "agent" }.count >= 1, "\(waiting)")
        }
    }
}
