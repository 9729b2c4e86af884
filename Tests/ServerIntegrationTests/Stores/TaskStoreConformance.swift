import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `TaskStore` must do (DESIGN §3): a task is planned on what is stored and a
/// refusal stores nothing; claiming keeps the limits, one task per account and the rotation window;
/// a commit makes the pending password current with the task's end in one step; a verify's answer
/// is stale once a change got ahead of it; a host key is pinned once.
@Suite struct TaskStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let ana = Principal(userID: "u-ana", username: "ana", role: .administrator, superAdmin: false, mustChangePassword: false, tokenID: "t")
    static let bo = Principal(userID: "u-bo", username: "bo", role: .administrator, superAdmin: false, mustChangePassword: false, tokenID: "t")
    static let anyone: @Sendable (Permission) throws -> Void = { _ in }
    static let queued: @Sendable (TaskRecord, ResourceRecord, AccountRecord) -> AuditEvent = { t, _, _ in
        AuditEvent(user: "ana", ip: "test", operation: "queue_\(t.kind.rawValue)", message: t.id)
    }

    /// A resource of ana's with one account, configured for agentless resets.
    static func fixture(_ b: StoreBackend, host: String = "h", login: String = "svc") async throws -> (rid: String, aid: String) {
        let rid = try await b.ownResource("u-ana")
        let aid = try await b.addAccount(rid, login)
        try await b.resetConfig(rid, #"{"mode":"agentless","loginAccount":"\#(login)"}"#)
        return (rid, aid)
    }

    static func queue(_ b: StoreBackend, _ kind: TaskRecord.Kind, _ f: (rid: String, aid: String), at: Date = t0,
        given: Secret? = nil, notAfter: Date? = nil) async throws -> TaskRecord
    {
        try #require(try await b.tasks.queue(f.aid, of: f.rid, visibleTo: ana, withPolicy: false, authorize: anyone, plan: { facts, _ in
            var t = ResetEngine.newTask(kind, facts, by: "ana", reason: nil, at: at)
            t.notAfter = notAfter?.seconds
            if given != nil {
                t.pendingSecretId = newID()
                t.newPasswordGiven = true
            }
            return (t, given)
        }, audit: queued))
    }

    static func ended(_ t: TaskRecord, _ state: TaskRecord.State, _ code: String) -> TaskWrite {
        var t = t
        t.end(state, code: code, message: code, at: t0)
        return TaskWrite(task: t)
    }

    @Test(arguments: StoreBackend.names("tasks"))
    func aTaskIsPlannedOnWhatIsStoredAndARefusalStoresNothing(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let f = try await Self.fixture(b)
        await #expect(throws: DomainError.self) {
            _ = try await b.tasks.queue(f.aid, of: f.rid, visibleTo: Self.ana, withPolicy: false, authorize: Self.anyone,
                plan: { _, _ in throw DomainError.invalid("no", "refused") }, audit: Self.queued)
        }
        #expect(try await b.tasks.queue(f.aid, of: f.rid, visibleTo: Self.bo, withPolicy: false, authorize: Self.anyone,
            plan: { _, _ in Issue.record("bo cannot see the account"); throw DomainError.invalid("no", "no") }, audit: Self.queued) == nil)
        await #expect(throws: DomainError.self) {
            _ = try await b.tasks.queue(f.aid, of: f.rid, visibleTo: Self.ana, withPolicy: true, authorize: Self.anyone, plan: { facts, state in
                #expect(facts.account.id == f.aid && facts.config?.loginAccount == "svc" && facts.pluginID == "unix" && facts.agentID == nil)
                #expect(!state.resetUnderWay && !state.verifyUnderWay && state.policy != nil)
                throw DomainError.invalid("no", "looked only")
            }, audit: Self.queued)
        }
        #expect(try await b.auditOperations().filter { $0.hasPrefix("queue_") }.isEmpty)

        let t = try await Self.queue(b, .reset, f, given: Secret("Given-1!"))
        #expect(try await b.tasks.task(t.id)?.state == .queued)
        #expect(try await b.tasks.pending(try #require(t.pendingSecretId), account: f.aid)?.reveal() == "Given-1!")
        _ = try? await b.tasks.queue(f.aid, of: f.rid, visibleTo: Self.ana, withPolicy: false, authorize: Self.anyone, plan: { _, state in
            #expect(state.resetUnderWay)
            throw DomainError(.conflict, "reset_in_progress", "under way")
        }, audit: Self.queued)
        #expect(try await b.auditOperations().filter { $0.hasPrefix("queue_") } == ["queue_reset"])
    }

    @Test(arguments: StoreBackend.names("tasks"))
    func claimingKeepsTheLimitsOneTaskAnAccountAndTheWindow(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let one = try await Self.fixture(b, login: "a1")
        let two = try await Self.fixture(b, login: "a2")
        let late = try await Self.fixture(b, login: "a3")
        // A verify queued before a reset of its account is ended when the claim meets it.
        let verify1 = try await Self.queue(b, .verify, one)
        let reset1 = try await Self.queue(b, .reset, one, at: Self.t0.addingTimeInterval(1))
        let reset2 = try await Self.queue(b, .reset, two, at: Self.t0.addingTimeInterval(2))
        let closed = try await Self.queue(b, .reset, late, given: Secret("Late-1!"), notAfter: Self.t0.addingTimeInterval(5))
        let at = Self.t0.addingTimeInterval(10)
        #expect(try await b.tasks.anyClaimable(ClaimRequest(at: at, limit: 1, agentLimit: 0, perHost: 1, busyHosts: [:])))
        #expect(try await !b.tasks.anyClaimable(ClaimRequest(at: at, limit: 1, agentLimit: 0, perHost: 1, busyHosts: ["h": 1])), "the host is full")
        #expect(try await !b.tasks.anyClaimable(ClaimRequest(at: at, limit: 0, agentLimit: 1, perHost: 1, busyHosts: [:])), "no agent task")
        let first = try await b.tasks.claim(ClaimRequest(at: at, limit: 5, agentLimit: 0, perHost: 1, busyHosts: [:]),
            windowClosed: { Self.ended($0, .cancelled, "windowClosed") }, supersededVerify: { Self.ended($0, .cancelled, "resetInProgress") })
        #expect(first.map(\.id) == [reset1.id] && first.first?.state == .running && first.first?.startedAt == at)
        #expect(try await b.tasks.task(verify1.id)?.resultCode == "resetInProgress")
        #expect(try await b.tasks.task(closed.id)?.resultCode == "windowClosed")
        #expect(try await b.tasks.pending(try #require(closed.pendingSecretId), account: late.aid) == nil)
        let busy = try await b.tasks.claim(ClaimRequest(at: at, limit: 5, agentLimit: 0, perHost: 2, busyHosts: ["h": 2]),
            windowClosed: { Self.ended($0, .cancelled, "x") }, supersededVerify: { Self.ended($0, .cancelled, "x") })
        #expect(busy.isEmpty)
        let second = try await b.tasks.claim(ClaimRequest(at: at, limit: 5, agentLimit: 0, perHost: 2, busyHosts: ["h": 1]),
            windowClosed: { Self.ended($0, .cancelled, "x") }, supersededVerify: { Self.ended($0, .cancelled, "x") })
        #expect(second.map(\.id) == [reset2.id])
        let recovered = try await b.tasks.recover { var t = $0; t.state = .queued; return t }
        #expect(Set(recovered.map(\.id)) == [reset1.id, reset2.id])
        #expect(try await b.tasks.task(reset1.id)?.state == .queued)
    }

    /// A task whose earlier run still ends on this node (it queued its own retry) is not claimed, nor
    /// is another task of its account: claimed, it would be `running` with no run to end it.
    @Test(arguments: StoreBackend.names("tasks"))
    func aTaskStillEndingHereIsNotClaimedNorIsItsAccountsNextTask(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let one = try await Self.fixture(b, login: "a1")
        let two = try await Self.fixture(b, login: "a2")
        let retry = try await Self.queue(b, .reset, one)
        let verify = try await Self.queue(b, .verify, two, at: Self.t0.addingTimeInterval(1))
        let after = try await Self.queue(b, .verify, one, at: Self.t0.addingTimeInterval(2))
        let at = Self.t0.addingTimeInterval(10)
        let claimed = try await b.tasks.claim(ClaimRequest(at: at, limit: 5, agentLimit: 0, perHost: 5, busyHosts: [:], excluding: [retry.id]),
            windowClosed: { Self.ended($0, .cancelled, "x") }, supersededVerify: { Self.ended($0, .cancelled, "x") })
        #expect(claimed.map(\.id) == [verify.id])
        #expect(try await b.tasks.task(retry.id)?.state == .queued)
        #expect(try await b.tasks.task(after.id)?.state == .queued, "its account waits for the run that ends")
        let next = try await b.tasks.claim(ClaimRequest(at: at, limit: 5, agentLimit: 0, perHost: 5, busyHosts: [:]),
            windowClosed: { Self.ended($0, .cancelled, "x") }, supersededVerify: { Self.ended($0, .cancelled, "x") })
        #expect(next.map(\.id) == [retry.id])
    }

    @Test(arguments: StoreBackend.names("tasks"))
    func aCommitMakesThePendingPasswordCurrentWithTheTasksEnd(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let f = try await Self.fixture(b)
        try await b.setPassword(f.aid, Secret("Old-1!"))
        let verify = try await Self.queue(b, .verify, f)
        var reset = try await Self.queue(b, .reset, f, at: Self.t0.addingTimeInterval(1))
        reset.pendingSecretId = "p-new"
        try await b.tasks.writePending(Secret("New-1!"), id: "p-new", account: f.aid, by: "ana", at: Self.t0, task: reset.id)
        try await b.tasks.writePending(Secret("Stale-1!"), id: "p-stale", account: f.aid, by: "ana", at: Self.t0, task: "t-earlier")
        var done = reset
        done.end(.succeeded, code: "ok", message: "changed", at: Self.t0.addingTimeInterval(5))
        done.pendingSecretId = "p-new"
        try await b.tasks.commit(TaskWrite(task: done, audit: [AuditEvent(user: "ana", ip: "t", operation: "change_password")]),
            at: Self.t0.addingTimeInterval(5), listenerTrigger: "test")
        let facts = try await b.tasks.run(resourceID: f.rid, accountID: f.aid) { _ in ["svc"] }
        #expect(facts.current?.reveal() == "New-1!" && facts.named["svc"]?.secret?.reveal() == "New-1!")
        #expect(try await b.tasks.candidates(account: f.aid).isEmpty)
        let stored = try await b.tasks.task(reset.id)
        #expect(stored?.state == .succeeded && stored?.pendingSecretId == nil)
        #expect(try await b.auditOperations().last == "change_password")
        let a = try await b.accounts.account(f.aid, of: f.rid, visibleTo: Self.ana, authorize: Self.anyone)
        #expect(a?.syncStatus == .inSync)
        // The verify queued before the change: its answer is stale and must not touch the account.
        try await b.tasks.finish(verify) { t, superseded in
            #expect(superseded)
            return Self.ended(t, .failed, "authenticationFailed")
        }
        await #expect(throws: DomainError.self) {
            _ = try await b.tasks.run(resourceID: f.rid, accountID: f.aid) { _ in ["nobody"] }
        }
    }

    @Test(arguments: StoreBackend.names("tasks"))
    func aCandidateIsPromotedOnlyWhenNoChangeGotAheadAndAHostKeyIsPinnedOnce(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let f = try await Self.fixture(b)
        try await b.setPassword(f.aid, Secret("Old-1!"))
        try await b.tasks.writePending(Secret("Cand-1!"), id: "p-cand", account: f.aid, by: "ana", at: Self.t0, task: "t-earlier")
        let verify = try await Self.queue(b, .verify, f, at: Date())
        #expect(try await b.tasks.candidates(account: f.aid).map(\.id) == ["p-cand"])
        _ = try await Self.queue(b, .reset, f, at: Date())
        #expect(try await !b.tasks.promote("p-cand", for: verify, at: Date(), audit: AuditEvent(user: "s", ip: "t", operation: "change_password")))
        #expect(try await b.tasks.run(resourceID: f.rid, accountID: f.aid) { _ in [] }.current?.reveal() == "Old-1!")
        let pin: @Sendable (ResourceRecord) -> AuditEvent = { r in AuditEvent(user: "system", ip: "t", operation: "pin_host_key", resourceId: r.id) }
        let key = "SHA256:" + String(repeating: "A", count: 43)
        #expect(try await b.tasks.pinHostKey(key, resourceID: f.rid, task: nil, audit: pin))
        #expect(try await !b.tasks.pinHostKey("SHA256:" + String(repeating: "B", count: 43), resourceID: f.rid, task: nil, audit: pin))
        #expect(try await b.tasks.run(resourceID: f.rid, accountID: f.aid) { _ in [] }.target.config?.hostKey == key)
        #expect(try await b.auditOperations().filter { $0 == "pin_host_key" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("tasks"))
    func anAbandonIsDecidedOnTheStoredTaskAndARefusalChangesNothing(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let f = try await Self.fixture(b)
        #expect(try await !b.tasks.hasWork())
        let t = try await Self.queue(b, .reset, f)
        #expect(try await b.tasks.hasWork())
        #expect(try await b.tasks.abandon("no-such-task") { _ in Issue.record("no task"); throw DomainError.notFound("task") } == nil)
        await #expect(throws: DomainError.self) {
            _ = try await b.tasks.abandon(t.id) { stored in
                guard stored.state == .unknown else { throw DomainError(.conflict, "not_abandonable", "queued") }
                return Self.ended(stored, .failed, "abandoned")
            }
        }
        #expect(try await b.tasks.task(t.id)?.state == .queued)
        var w = Self.ended(t, .failed, "abandoned")
        w.sync = .unknown
        w.audit = [AuditEvent(user: "ana", ip: "t", operation: "abandon_reset")]
        let write = w
        #expect(try await b.tasks.abandon(t.id) { _ in write }?.resultCode == "abandoned")
        #expect(try await b.accounts.account(f.aid, of: f.rid, visibleTo: Self.ana, authorize: Self.anyone)?.syncStatus == .unknown)
        #expect(try await b.auditOperations().last == "abandon_reset")
        #expect(try await !b.tasks.hasWork(), "an ended task is no work")
    }

    @Test(arguments: StoreBackend.names("tasks"))
    func aTaskIsShownToItsRequesterAndToWhoeverSeesItsAccount(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-cy", "cy")
        // A password user: the list shows it only what it may see (administrators see every task listed).
        let cy = Principal(userID: "u-cy", username: "cy", role: .passwordUser, superAdmin: false, mustChangePassword: false, tokenID: "t")
        let f = try await Self.fixture(b)
        let t = try await Self.queue(b, .verify, f)
        #expect(try await b.tasks.task(t.id, visibleTo: cy, authorize: Self.anyone) == nil)
        #expect(try await b.tasks.tasks(visibleTo: cy, mine: false, state: nil, limit: 10).isEmpty)
        let named = try await b.tasks.task(t.id, visibleTo: Self.ana, authorize: Self.anyone)
        #expect(named?.task.id == t.id && named?.account?.loginName == "svc" && named?.resource?.id == f.rid)
        try await b.share("account", f.aid, "u-cy", "view")
        await #expect(throws: DomainError.self) {
            _ = try await b.tasks.task(t.id, visibleTo: cy, authorize: { _ in throw DomainError(.forbidden, "no", "view only") })
        }
        #expect(try await b.tasks.task(t.id, visibleTo: cy, authorize: Self.anyone)?.account?.id == f.aid)
        #expect(try await b.tasks.tasks(visibleTo: cy, mine: false, state: .queued, limit: 10).map(\.task.id) == [t.id])
        #expect(try await b.tasks.tasks(visibleTo: cy, mine: false, state: .running, limit: 10).isEmpty)
        #expect(try await b.tasks.tasks(visibleTo: cy, mine: true, state: nil, limit: 10).isEmpty)
    }
}
