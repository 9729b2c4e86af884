import Crypto
import Foundation
import GRDB
import HTTPTypes
import NIOCore
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// `/agent/v1/*` in process: enrollment tokens are single use and expire; every later request must
/// be signed, fresh and new; bad requests change nothing; two agents never hold the same job.
@Suite struct AgentProtocolTests: AgentWireFixture {

    @Test func theEmbeddedTemplatesAreTheFilesInAgentPackages() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        #expect(try String(contentsOfFile: root + "/agent-packages/install.sh", encoding: .utf8) == AgentPackageTemplates.installScript)
        #expect(try String(contentsOfFile: root + "/agent-packages/Agent.conf", encoding: .utf8) == AgentPackageTemplates.agentConf)
    }

    func count(_ h: Harness, _ sql: String) async throws -> Int {
        try await h.custody.store.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    @Test func tokensAreSingleUseAndExpire() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            let admin = try await api.admin()
            let t = try await token(api, admin, h)
            var a = FakeAgent()
            #expect(try await enroll(api, t, &a, at: clock.now).status == .created)
            var b = FakeAgent()
            let reused = try await enroll(api, t, &b, at: clock.now)
            #expect(reused.status == .unauthorized && reused.errorCode == "invalid_token")
            let old = try await token(api, admin, h)
            let fresh = try await token(api, admin, h)
            let d = FakeAgent()
            clock.advance(8 * 86400)
            var c = FakeAgent()
            #expect(try await enroll(api, old, &c, at: clock.now).errorCode == "invalid_token", "7 days by default")
            let unsigned = try await send(api, "/enroll", EnrollRequest(token: fresh, hostname: "h", os: "linux",
                arch: "x", version: "t", signingKey: d.signing.publicKey.rawRepresentation, sealingKey: d.sealing.publicKey.rawRepresentation),
                as: FakeAgent(), at: clock.now)
            #expect(unsigned.errorCode == "bad_signature", "signed by another key than the one it enrolls")
            #expect(try await count(h, "SELECT count(*) FROM agents") == 1)
        }
    }

    @Test func theAgentListShowsWhoHoldsALongPoll() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            var a = FakeAgent()
            #expect(try await enroll(api, try await token(api, admin, h), &a, at: Date()).status == .created)
            func polling() async throws -> Bool? { try await api.call(.get, "/agents", token: admin).array.first?["longPolling"] as? Bool }
            #expect(try await polling() == false)
            // The poll is long enough for a loaded CI machine to see it held; that a wake did not end
            // it is shown by when it ends (its deadline), not by a sample taken in a window.
            let (agent, me) = (a, self)
            let sent = ContinuousClock.now
            let poll = Task { try await me.send(api, "/poll", PollRequest(wait: 10, version: "t"), as: agent, at: Date()).status }
            var held = false
            while !held, ContinuousClock.now - sent < .seconds(8) {
                held = try await polling() == true
                if !held { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(held, "the list shows the poll while it waits")
            // A wake with no job for the agent does not end the poll: it waits on to its end.
            h.custody.agentHub.signal(a.id).poke()
            #expect(try await poll.value == .ok)
            #expect(ContinuousClock.now - sent >= .seconds(9.5), "answered at its deadline, not at the wake")
            #expect(try await polling() == false, "and no longer once it has answered")
        }
    }

    /// Past `agentMaxLongPolls` a poll that would wait is answered at once: 503, `Retry-After`
    /// spread over 5–30 s; a poll with a job to take is still answered with it.
    @Test func pastTheCapAPollIsToldToComeBackLater() async throws {
        let h = try await Harness.make(configure: { $0.agentMaxLongPolls = 1 })
        try await h.run { api in
            let admin = try await api.admin()
            var a = FakeAgent()
            var b = FakeAgent()
            #expect(try await enroll(api, try await token(api, admin, h), &a, at: Date()).status == .created)
            #expect(try await enroll(api, try await token(api, admin, h), &b, at: Date(), host: "web02.example.test").status == .created)
            let (first, me) = (a, self)
            let poll = Task { try await me.send(api, "/poll", PollRequest(wait: 10, version: "t"), as: first, at: Date()).status }
            for _ in 0..<200 where h.custody.agentHub.longPolls < 1 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(h.custody.agentHub.longPolls == 1)
            let refused = try await send(api, "/poll", PollRequest(wait: 30, version: "t"), as: b, at: Date())
            #expect(refused.status == .serviceUnavailable && refused.errorCode == "too_many_polls")
            let after = refused.headers[.retryAfter].flatMap { Int($0) }
            #expect(after.map { (5...30).contains($0) } == true, "Retry-After: \(String(describing: after))")
            #expect(try await send(api, "/poll", PollRequest(wait: 0, version: "t"), as: b, at: Date()).status == .ok, "a poll that does not wait")
            #expect(try await poll.value == .ok)
            #expect(h.custody.agentHub.longPolls == 0)
        }
    }

    /// One agent cannot take the whole cap: past two polls held at once its next is refused,
    /// and others are still held.
    @Test func oneAgentHoldsAtMostTwoLongPolls() async throws {
        let hub = AgentHub(maxLongPolls: 100)
        let release = TaskSignal()
        let held = (0..<2).map { _ in Task { await hub.longPoll("a") { await release.wait(timeout: .seconds(30)) } } }
        for _ in 0..<200 where hub.longPolls < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(hub.longPolls == 2)
        #expect(await hub.longPoll("a") {} == false, "a third poll of the same agent")
        #expect(await hub.longPoll("b") {} == true, "another agent's")
        for _ in 0..<300 where hub.longPolls > 0 {
            release.poke()
            try await Task.sleep(for: .milliseconds(10))
        }
        for t in held { #expect(await t.value) }
        #expect(hub.longPolls == 0)
    }

    /// A queue read empty is believed until the agent's signal is poked (a job queued) or a few
    /// seconds pass; a poke after the read is not lost.
    @Test func anEmptyQueueIsReadAgainOnlyAfterAPokeOrAWhile() {
        let hub = AgentHub(emptyFor: 5)
        #expect(hub.mayHaveJobs("a", now: 100))
        let seen = hub.signal("a").current
        hub.foundEmpty("a", generation: seen, now: 100)
        #expect(!hub.mayHaveJobs("a", now: 101))
        #expect(hub.mayHaveJobs("a", now: 105.5), "after a while it is read again")
        hub.signal("a").poke()
        #expect(hub.mayHaveJobs("a", now: 101), "a job was queued")
        let before = hub.signal("a").current
        hub.signal("a").poke()
        hub.foundEmpty("a", generation: before, now: 102)
        #expect(hub.mayHaveJobs("a", now: 102), "poked between the read and its note")
    }

    @Test func forgedStaleReplayedOversizedAndRevokedRequestsAreRefusedWithoutEffect() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            let admin = try await api.admin()
            var a = FakeAgent()
            #expect(try await enroll(api, try await token(api, admin, h), &a, at: clock.now).status == .created)
            let poll = PollRequest(wait: 0, version: "t")
            #expect(try await send(api, "/poll", poll, as: a, at: clock.now).status == .ok)
            let seen = try await count(h, "SELECT count(*) FROM agentNonces")
            clock.advance(5)
            let lastSeen = try await count(h, "SELECT CAST(lastSeenAt AS INTEGER) FROM agents")
            var forger = FakeAgent()
            forger.id = a.id
            #expect(try await send(api, "/poll", poll, as: forger, at: clock.now).errorCode == "bad_signature")
            #expect(try await send(api, "/poll", poll, as: a, at: clock.now) { _, body in body.append(contentsOf: Data(" ".utf8)) }
                .errorCode == "bad_signature", "a body changed after signing")
            #expect(try await send(api, "/poll", poll, as: a, at: clock.now.addingTimeInterval(-301)).errorCode == "clock_skew")
            var replayed: (HTTPFields, Data)?
            _ = try await send(api, "/poll", poll, as: a, at: clock.now) { headers, body in replayed = (headers, body) }
            let replay = try await send(api, "/poll", poll, as: a, at: clock.now) { headers, body in (headers, body) = replayed! }
            #expect(replay.errorCode == "replayed", "\(replay.status) \(replay.text)")
            let big = try await send(api, "/poll", poll, as: a, at: clock.now) { _, body in body = Data(count: AgentWire.maxBody + 1) }
            #expect(big.status == .contentTooLarge)
            #expect(try await count(h, "SELECT count(*) FROM agentNonces") == seen + 1, "only the first of the replayed pair counted")
            // A forged, stale or oversized request wrote nothing: the first of the replayed pair set lastSeenAt.
            #expect(try await count(h, "SELECT CAST(lastSeenAt AS INTEGER) FROM agents") == lastSeen + 5)
            // A restarted server reads the window's nonces back: the replay stays refused.
            let nonce = try #require(replayed?.0[HTTPField.Name(AgentWire.nonceHeader)!])
            let restarted = Custody(config: h.custody.config, store: h.custody.store, vault: h.custody.vault, logger: h.custody.logger,
                now: { clock.now })
            #expect(try await restarted.agentAuth.claimAgentNonce(a.id + ":" + nonce, at: clock.now.timeIntervalSince1970) == false)
            #expect(try await restarted.agentAuth.claimAgentNonce(a.id + ":fresh", at: clock.now.timeIntervalSince1970))
            #expect(try await api.call(.delete, "/agents/\(a.id)", token: admin).status == .noContent)
            #expect(try await send(api, "/poll", poll, as: a, at: clock.now).errorCode == "agent_revoked")
        }
    }

    @Test func aJobIsLeasedToItsOwnAgentOnceAndItsAnswerTakenOncePerLease() async throws {
        let h = try await Harness.make(configure: {
            $0.agentLeaseSeconds = 60
            $0.agentOfferSeconds = 60
        })
        try await h.run { api in
            let admin = try await api.admin()
            var a = FakeAgent(), b = FakeAgent()
            #expect(try await enroll(api, try await token(api, admin, h), &a, at: Date()).status == .created)
            #expect(try await enroll(api, try await token(api, admin, h), &b, at: Date(), host: "web02.example.test").status == .created)
            let job = ResetJob(operation: .verify, resource: ["RESOURCENAME": "web01"], account: ["LOGINNAME": "svc"],
                currentPassword: Secret("Sealed-Pass-1"), settings: ResetSettings())
            let agentID = a.id
            let waiting = Task { try await h.custody.agentJobs.run(agentID, job) }
            var jobs: [[String: Any]] = []
            for _ in 0..<50 where jobs.isEmpty {
                #expect((try await send(api, "/poll", PollRequest(wait: 0, version: "t"), as: b, at: Date()).object["jobs"] as? [Any])?.isEmpty == true,
                    "another agent never sees the job")
                jobs = try await send(api, "/poll", PollRequest(wait: 0, version: "t"), as: a, at: Date()).object["jobs"] as? [[String: Any]] ?? []
            }
            let leased = try JSONDecoder().decode(AgentJob.self, from: JSONSerialization.data(withJSONObject: try #require(jobs.first)))
            #expect(try await send(api, "/jobs/\(leased.id)/renew", LeaseRequest(leaseId: leased.leaseId), as: a, at: Date()).status == .ok,
                "the offer is taken")
            let opened = try JSONDecoder().decode(ResetJob.self, from: try AgentWire.open(leased, with: a.sealing))
            #expect(opened.currentPassword?.reveal() == "Sealed-Pass-1")
            #expect(throws: (any Error).self) { try AgentWire.open(leased, with: b.sealing) }
            let again = try await send(api, "/poll", PollRequest(wait: 0, version: "t"), as: a, at: Date())
            #expect((again.object["jobs"] as? [Any])?.isEmpty == true, "leased once")
            let wrong = try await send(api, "/jobs/\(leased.id)/result", ResultRequest(leaseId: "not-the-lease", response: .success("x")), as: a, at: Date())
            #expect(wrong.errorCode == "lease_lost")
            let theirs = try await send(api, "/jobs/\(leased.id)/result", ResultRequest(leaseId: leased.leaseId, response: .success("x")), as: b, at: Date())
            #expect(theirs.errorCode == "lease_lost", "an answer from another agent is refused")
            #expect(try await send(api, "/jobs/\(leased.id)/renew", LeaseRequest(leaseId: leased.leaseId), as: a, at: Date()).status == .ok)
            let answer = ResultRequest(leaseId: leased.leaseId, response: .failure(ResetFailure(.authenticationFailed, "wrong password")))
            #expect(try await send(api, "/jobs/\(leased.id)/result", answer, as: a, at: Date()).object["status"] as? String == "accepted")
            #expect(try await send(api, "/jobs/\(leased.id)/result", answer, as: a, at: Date()).object["status"] as? String == "duplicate")
            let outcome = try await waiting.value
            #expect(outcome.code == "authenticationFailed")
            let stored = try await h.custody.store.read { db in try Data.fetchOne(db, sql: "SELECT ciphertext FROM agentJobs") }
            #expect(stored?.isEmpty == true, "the sealed job is dropped once answered")
        }
    }

    @Test func accountSyncAddsAndMarksMissingOnlyWhereEnabled() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("synced", token: admin)
            _ = try await api.account(rid, "old1", password: "Old-Pass-123", token: admin)
            _ = try await api.account(rid, "keep", password: "Keep-Pass-123", token: admin)
            try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agent"])
            var a = FakeAgent()
            #expect(try await enroll(api, try await token(api, admin, h, resourceId: rid), &a, at: Date()).status == .created)
            func names() async throws -> Set<String> {
                Set(try await api.call(.get, "/resources/\(rid)/accounts", token: admin).array.compactMap { $0["loginName"] as? String })
            }
            let report = PollRequest(wait: 0, version: "t", accounts: ["keep", "new1", "root"])
            #expect(try await send(api, "/poll", report, as: a, at: Date()).status == .ok)
            #expect(try await names() == ["old1", "keep"], "sync is off by default")
            let on = try await api.call(.put, "/resources/\(rid)/reset-config", token: admin,
                json: ["mode": "agent", "syncAccountAddition": true, "syncAccountDeletion": true])
            #expect(on.status == .ok || on.status == .noContent, "\(on.text)")
            #expect(try await send(api, "/poll", PollRequest(wait: 0, version: "t", accounts: []), as: a, at: Date()).status == .ok)
            #expect(try await names() == ["old1", "keep"], "an empty report removes nothing")
            #expect(try await send(api, "/poll", report, as: a, at: Date()).status == .ok)
            // An account the host no longer has is marked missing, never deleted with its history.
            #expect(try await names() == ["old1", "keep", "new1", "root"])
            let missing = try await api.call(.get, "/resources/\(rid)/accounts?syncStatus=missing", token: admin).array
            #expect(missing.compactMap { $0["loginName"] as? String } == ["old1"])
            let old = try #require(missing.first?["id"] as? String)
            #expect(try await api.call(.get, "/resources/\(rid)/accounts/\(old)/password", token: admin).object["password"] as? String
                == "Old-Pass-123", "its password is kept")
            let back = PollRequest(wait: 0, version: "t", accounts: ["keep", "new1", "root", "old1"])
            #expect(try await send(api, "/poll", back, as: a, at: Date()).status == .ok)
            #expect(try await api.call(.get, "/resources/\(rid)/accounts?syncStatus=missing", token: admin).array.isEmpty)
            let audited = try await h.custody.store.read { db in
                try String.fetchAll(db, sql: "SELECT operation || ' ' || account FROM audit WHERE operation LIKE 'account_sync_%' ORDER BY id")
            }
            #expect(audited == ["account_sync_added new1", "account_sync_added root", "account_sync_missing old1", "account_sync_found old1"],
                "\(audited)")
        }
    }

    /// A poll answer that never reached the agent (it had gone away mid long poll): the offer is
    /// not taken, so the job goes back to the queue and is offered again, never run twice.
    @Test func anOfferNotTakenIsOfferedAgainAndTheOldLeaseIsRefused() async throws {
        let h = try await Harness.make(configure: {
            $0.agentOfferSeconds = 1
            $0.agentQueueSeconds = 60
        })
        try await h.run { api in
            let admin = try await api.admin()
            var a = FakeAgent()
            #expect(try await enroll(api, try await token(api, admin, h), &a, at: Date()).status == .created)
            let job = ResetJob(operation: .verify, resource: [:], account: ["LOGINNAME": "svc"], currentPassword: Secret("P-1"), settings: ResetSettings())
            let agentID = a.id
            let waiting = Task { try await h.custody.agentJobs.run(agentID, job) }
            func offers() async throws -> [AgentJob] {
                let r = try await send(api, "/poll", PollRequest(wait: 2, version: "t"), as: a, at: Date())
                return try JSONDecoder().decode(PollResponse.self, from: r.data).jobs
            }
            let lost = try #require(try await offers().first)
            // Offered again (a loaded machine may let an offer lapse more than once: take the first one in time).
            var second: AgentJob?
            for _ in 0..<20 where second == nil {
                guard let offer = try await offers().first else { continue }
                #expect(offer.id == lost.id && offer.leaseId != lost.leaseId)
                if try await send(api, "/jobs/\(offer.id)/renew", LeaseRequest(leaseId: offer.leaseId), as: a, at: Date()).status == .ok {
                    second = offer
                }
            }
            let taken = try #require(second)
            let stale = try await send(api, "/jobs/\(lost.id)/renew", LeaseRequest(leaseId: lost.leaseId), as: a, at: Date())
            #expect(stale.errorCode == "lease_lost", "the first offer can no longer be taken")
            let done = ResultRequest(leaseId: taken.leaseId, response: .success("ok"))
            #expect(try await send(api, "/jobs/\(taken.id)/result", done, as: a, at: Date()).object["status"] as? String == "accepted")
            #expect(try await waiting.value.ok)
        }
    }

    /// Trust II: a host name never binds. An agent named like a resource's host serves nothing until
    /// an administrator approves the binding; a password administrator can neither choose agent mode
    /// nor bind, so a resource made to look like an agent's host never hands that agent a root job.
    @Test func aHostNameNeverBindsAndOnlyAnAdministratorBinds() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let pa = try await api.user("pa1", role: "passwordAdministrator", adminToken: admin)
            var a = FakeAgent()
            // Any unused token: the agent claims the host name web01.example.test.
            #expect(try await enroll(api, try await token(api, admin, h), &a, at: Date(), host: "WEB01.example.test").status == .created)
            let rid = try await api.resource("web01", token: pa)  // dnsName web01.example.test
            let aid = try await api.account(rid, "root", password: "Root-Pass-123", token: pa)
            let refused = try await api.call(.put, "/resources/\(rid)/reset-config", token: pa, json: ["mode": "agent"])
            #expect(refused.status == .forbidden, "only administrators choose agent mode: \(refused.text)")
            #expect(try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agent"]).status == .ok)
            let q = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: pa,
                json: ["resetType": "remote", "newPassword": "Chosen-By-Attacker-1!"])
            #expect(q.errorCode == "no_agent", "the host name alone binds nothing: \(q.text)")
            let polled = try await send(api, "/poll", PollRequest(wait: 0, version: "t"), as: a, at: Date())
            #expect(try JSONDecoder().decode(PollResponse.self, from: polled.data).jobs.isEmpty)
            let agents = try await api.call(.get, "/agents", token: admin).array
            let shown = try #require(agents.first { $0["id"] as? String == a.id })
            #expect(shown["pendingBindings"] as? [String] == [rid] && (shown["bindings"] as? [String])?.isEmpty == true, "\(shown)")
            #expect(try await api.call(.post, "/agents/\(a.id)/bindings", token: pa, json: ["resourceId": rid]).status == .forbidden)
            let bound = try await api.call(.post, "/agents/\(a.id)/bindings", token: admin, json: ["resourceId": rid])
            #expect(bound.object["bindings"] as? [String] == [rid], "\(bound.text)")
            let audit = try await api.call(.get, "/audit?operation=agent_binding_approved", token: admin).array
            #expect(audit.count == 1 && audit.first?["user"] as? String == "admin")
            let v = try await api.call(.post, "/resources/\(rid)/accounts/\(aid)/verify", token: admin)
            #expect(v.status == .accepted, "\(v.text)")
            var offered: [AgentJob] = []
            for _ in 0..<50 where offered.isEmpty {
                offered = try JSONDecoder().decode(PollResponse.self, from: try await send(api, "/poll", PollRequest(wait: 1, version: "t"),
                    as: a, at: Date()).data).jobs
            }
            #expect(offered.count == 1, "the approved binding is served")
            #expect(try await api.call(.delete, "/agents/\(a.id)/bindings/\(rid)", token: admin).status == .noContent)
            let after = try await api.call(.get, "/agents", token: admin).array.first { $0["id"] as? String == a.id }
            #expect((after?["bindings"] as? [String])?.isEmpty == true)
        }
    }

    /// An administrator who is not a super-administrator binds an agent (its own, say) only to a
    /// resource it manages, and takes a resource from another agent only when it says so.
    @Test func anAdministratorBindsOnlyWhatItManagesAndMovesOnlyOnRequest() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let root = try await api.admin()
            let adm = try await api.user("adm-bind", role: "administrator", adminToken: root)
            let victim = try await api.resource("victim-db", token: root)
            try await api.call(.put, "/resources/\(victim)/reset-config", token: root, json: ["mode": "agent"])
            var ids: [String] = []
            for host in ["mine.example.test", "theirs.example.test"] {
                let agent = AgentRecord(id: newID(), hostname: host, os: "linux", arch: "x86_64", version: "t",
                    signingKey: Data(count: 32), sealingKey: Data(count: 32), resourceId: nil, enrolledAt: 0, lastSeenAt: 0)
                try await h.custody.store.write { try agent.insert($0) }
                ids.append(agent.id)
            }
            let (mine, theirs) = (ids[0], ids[1])
            let bind = { (agent: String, body: [String: Any]) in try await api.call(.post, "/agents/\(agent)/bindings", token: adm, json: body) }
            #expect(try await bind(mine, ["resourceId": victim]).status == .notFound, "a resource it cannot see")
            let bundle = try await api.call(.post, "/agent-packages", token: adm, json: ["os": "linux", "resourceId": victim])
            #expect(bundle.status == .notFound, "no bundle bound to a resource it cannot see: \(bundle.text)")
            try await api.call(.put, "/resources/\(victim)/shares", token: root, json: ["users": [["username": "adm-bind", "permission": "modify"]]])
            #expect(try await bind(mine, ["resourceId": victim]).status == .forbidden, "modify is not manage")
            try await api.call(.put, "/resources/\(victim)/shares", token: root, json: ["users": [["username": "adm-bind", "permission": "manage"]]])
            #expect(try await api.call(.post, "/agents/\(theirs)/bindings", token: root, json: ["resourceId": victim]).status == .ok)
            let taken = try await bind(mine, ["resourceId": victim])
            #expect(taken.status == .conflict && taken.errorCode == "already_bound", "\(taken.text)")
            #expect(try await bind(mine, ["resourceId": victim, "move": true]).status == .ok)
            let agents = try await api.call(.get, "/agents", token: root).array
            #expect(agents.first { $0["id"] as? String == mine }?["bindings"] as? [String] == [victim])
            #expect((agents.first { $0["id"] as? String == theirs }?["bindings"] as? [String])?.isEmpty == true)
        }
    }
}
