import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// Tasks and schedules with several nodes on one real PostgreSQL database: a task is claimed by
/// one node, the per-host limit counts every node's running tasks, a node's lease lapses when it
/// stops renewing it and another node then takes its tasks, and a scheduled start runs once.
@Suite struct PGClusterTaskTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    struct Node {
        let store: PGStore
        let tasks: PGTaskStore
        let runs: PGRunStore
    }

    /// Nodes whose leases are judged on `testclock.at` when `tableClock`, which the test advances.
    static func nodes(_ names: [String], lease: Double = 30, tableClock: Bool = false) async throws -> [Node] {
        let name = try await PGTestDatabase.create()
        let vault = Vault(masterKey: MasterKey.generate())
        var out: [Node] = []
        for n in names {
            let store = try await PGTestDatabase.store(name: name)
            let w = PGWiring(vault: vault, historyDepth: 10, node: PGNode(id: n, version: "test", leaseSeconds: lease,
                clockSQL: tableClock ? "(SELECT at FROM testclock)" : PGTaskStore.dbNow))
            out.append(Node(store: store, tasks: store.tasks(w), runs: store.runs(w)))
        }
        return out
    }

    /// A user, a resource on `host` with a reset config, and `count` accounts, each with a queued reset.
    static func queued(_ db: PGDatabase, host: String, count: Int) async throws {
        try await db.write { c in
            try await c.execute("INSERT INTO users(id, username, passwordHash, role, createdAt) VALUES ('u', 'ana', 'x', 'administrator', 0) ON CONFLICT DO NOTHING")
            let rid = newID()
            try await c.execute("INSERT INTO resources(id, name, dnsName, type, ownerId, createdAt, updatedAt) VALUES (?, ?, ?, 'Linux', 'u', 0, 0)",
                [rid, "r-" + rid, host])
            try await c.execute("INSERT INTO resetConfigs(resourceId, json) VALUES (?, '{\"mode\":\"agentless\"}')", [rid])
            for i in 0..<count {
                let aid = newID()
                try await c.execute("INSERT INTO accounts(id, resourceId, loginName, createdAt) VALUES (?, ?, ?, 0)", [aid, rid, "svc\(i)"])
                try await c.execute("""
                    INSERT INTO tasks(id, kind, state, phase, via, resourceId, accountId, host, requestedBy, createdAt)
                    VALUES (?, 'reset', 'queued', 'queued', 'plugin', ?, ?, ?, 'ana', ?)
                    """, [newID(), rid, aid, host, Double(i)])
            }
        }
    }

    static func request(perHost: Int = 100, busy: [String: Int] = [:]) -> ClaimRequest {
        ClaimRequest(at: t0, limit: 100, agentLimit: 0, perHost: perHost, busyHosts: busy)
    }

    static let keep: @Sendable (TaskRecord) -> TaskWrite = { TaskWrite(task: $0) }

    @Test func nodesClaimingTogetherTakeEachTaskOnce() async throws {
        let nodes = try await Self.nodes(["a", "b", "c"])
        for h in 0..<4 { try await Self.queued(nodes[0].store.db, host: "h\(h)", count: 5) }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for n in nodes {
                group.addTask { try await n.tasks.claim(Self.request(), windowClosed: Self.keep, supersededVerify: Self.keep).map(\.id) }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(claimed.count == 20 && Set(claimed).count == 20, "every task claimed, none twice")
        let holders = try await nodes[0].store.db.read { c in try await c.column(String.self, "SELECT DISTINCT claimedBy FROM tasks") }
        #expect(Set(holders).isSubset(of: ["a", "b", "c"]))
    }

    @Test func thePerHostLimitCountsEveryNodesRunningTasks() async throws {
        let nodes = try await Self.nodes(["a", "b"])
        try await Self.queued(nodes[0].store.db, host: "db01", count: 5)
        let first = try await nodes[0].tasks.claim(Self.request(perHost: 2), windowClosed: Self.keep, supersededVerify: Self.keep)
        #expect(first.count == 2)
        let second = try await nodes[1].tasks.claim(Self.request(perHost: 2), windowClosed: Self.keep, supersededVerify: Self.keep)
        #expect(second.isEmpty, "node b sees node a's two running resets on db01")
        #expect(try await nodes[1].tasks.anyClaimable(Self.request(perHost: 2)) == false)
    }

    static let toReconcile: @Sendable (TaskRecord) -> TaskRecord = { t in
        var r = t
        r.state = .unknown
        r.phase = .reconcile
        return r
    }

    /// The table the nodes' `clockSQL` reads, at 1000; the returned function moves it.
    static func tableClock(_ db: PGDatabase) async throws -> @Sendable (Double) async throws -> Void {
        try await db.write { c in
            try await c.execute("CREATE TABLE testclock (at DOUBLE PRECISION NOT NULL)")
            try await c.execute("INSERT INTO testclock VALUES (1000)")
        }
        return { at in try await db.write { c in try await c.execute("UPDATE testclock SET at = ?", [at]) } }
    }

    /// Leases are judged on the database's clock (here a table the test advances): a 30 s lease,
    /// renewed once, then left to lapse.
    @Test func aNodeThatStopsRenewingLosesItsTasksToAnotherAfterTheLease() async throws {
        let nodes = try await Self.nodes(["a", "b"], tableClock: true)
        let db = nodes[0].store.db
        let clock = try await Self.tableClock(db)
        try await Self.queued(db, host: "h", count: 2)
        let mine = try await nodes[0].tasks.claim(Self.request(), windowClosed: Self.keep, supersededVerify: Self.keep)
        #expect(mine.count == 2)
        try await clock(1010)
        #expect(try await nodes[1].tasks.recoverLapsed(held: [], Self.toReconcile).isEmpty, "a live lease is kept")
        try await clock(1025)
        try await nodes[0].tasks.heartbeat(held: mine.map(\.id))
        try await clock(1040)
        #expect(try await nodes[1].tasks.recoverLapsed(held: [], Self.toReconcile).isEmpty, "renewed at 25 s, so held until 55 s")
        try await clock(1056)
        let taken = try await nodes[1].tasks.recoverLapsed(held: [], Self.toReconcile)
        #expect(Set(taken.map(\.id)) == Set(mine.map(\.id)) && taken.allSatisfy { $0.state == .unknown && $0.phase == .reconcile })
        #expect(taken.allSatisfy { $0.resultCode == TaskRecord.takenOverCode }, "node a may still be alive: its resets are taken over")
        #expect(try await db.read { c in try await c.scalar(Int.self, "SELECT COUNT(*) FROM tasks WHERE claimedBy IS NOT NULL") } == 0)
        #expect(try await db.read { c in try await c.column(String.self, "SELECT id FROM nodes") } == ["a"], "the heartbeat records the node")
        // Node a's late answer for a task it no longer holds is refused, and changes nothing.
        var late = mine[0]
        late.end(.succeeded, code: "ok", message: "late", at: Date())
        await #expect(throws: StoreError.self) {
            try await nodes[0].tasks.commit(TaskWrite(task: late), at: Date(), listenerTrigger: "late")
        }
        #expect(try await nodes[1].tasks.task(late.id)?.state == .unknown, "what node b decided stands")
    }

    /// A task the node claimed but does not run (its claim's answer lost, its run ended without a
    /// last write) is not renewed, and the node itself takes it back once its lease lapses; one
    /// it still runs is left to that run, and to other nodes.
    @Test func aClaimedTaskThatNoRunHoldsLapsesEvenOnItsOwnNode() async throws {
        let nodes = try await Self.nodes(["a", "b"], tableClock: true)
        let db = nodes[0].store.db
        let clock = try await Self.tableClock(db)
        try await Self.queued(db, host: "h", count: 2)
        let mine = try await nodes[0].tasks.claim(Self.request(), windowClosed: Self.keep, supersededVerify: Self.keep).map(\.id)
        #expect(mine.count == 2)
        try await clock(1025)
        try await nodes[0].tasks.heartbeat(held: [mine[0]])
        try await clock(1040)
        let back = try await nodes[0].tasks.recoverLapsed(held: [mine[0]], Self.toReconcile)
        #expect(back.map(\.id) == [mine[1]], "only the task no run holds, and on its own node")
        try await clock(1060)
        #expect(try await nodes[0].tasks.recoverLapsed(held: [mine[0]], Self.toReconcile).isEmpty, "a run of its own is left to end")
        let taken = try await nodes[1].tasks.recoverLapsed(held: [], Self.toReconcile)
        #expect(taken.map(\.id) == [mine[0]], "another node takes it once the lease lapsed")
    }

    /// A run that gave up its hold (a store call past its deadline) and goes on: the node does not
    /// claim its task again while it lives, it sends nothing, and its writes are refused, whether
    /// the task was taken back by its own node (no holder) or claimed by another.
    @Test func aRunThatGaveUpItsHoldNeitherSendsNorWritesNorRunsTwice() async throws {
        let nodes = try await Self.nodes(["a", "b"], tableClock: true)
        let db = nodes[0].store.db
        let clock = try await Self.tableClock(db)
        try await Self.queued(db, host: "h", count: 1)
        let task = try #require(try await nodes[0].tasks.claim(Self.request(), windowClosed: Self.keep, supersededVerify: Self.keep).first)
        let held = HeldTasks()
        #expect(held.insert(task.id))
        held.giveUp(task.id)
        #expect(held.all.isEmpty && held.running == [task.id], "not renewed, still not claimable here")
        #expect(!held.insert(task.id), "no second run while the first lives")
        let run = RunningTask(id: task.id, held: held)
        let hook = RunningTask.$current.withValue(run) { LeaseHook(lease: NodeLease(seconds: 30), inner: nil) }
        hook.lease.renew()
        #expect(throws: ResetFailure.self, "nothing is sent") { try hook.fault(at: .beforeSend) }
        var changing = task
        changing.phase = .changing
        await #expect(throws: ResetStopped.self) {
            try await RunningTask.$current.withValue(run) { try await nodes[0].tasks.save(TaskWrite(task: changing)) }
        }
        // Taken back by its own node after the lease: a late write of any run of the old claim is refused.
        try await clock(1040)
        #expect(try await nodes[0].tasks.recoverLapsed(held: held.all, Self.toReconcile).map(\.id) == [task.id])
        var request = Self.request()
        request.excluding = held.running
        #expect(try await nodes[0].tasks.claim(request, windowClosed: Self.keep, supersededVerify: Self.keep).isEmpty)
        await #expect(throws: StoreError.self, "no holder: refused") { try await nodes[0].tasks.save(TaskWrite(task: changing)) }
        try await db.write { c in try await c.execute("UPDATE tasks SET pendingSecretId = 'p-1' WHERE id = ?", [task.id]) }
        await #expect(throws: StoreError.self, "nor may it drop the task's pending password") { try await nodes[0].tasks.dropPending("p-1", task: task.id) }
        let other = try await nodes[1].tasks.claim(Self.request(), windowClosed: Self.keep, supersededVerify: Self.keep)
        #expect(other.map(\.id) == [task.id], "another node takes it to reconcile")
        await #expect(throws: StoreError.self, "held by b: refused") { try await nodes[0].tasks.save(TaskWrite(task: changing)) }
        held.remove(task.id)
        #expect(held.running.isEmpty && held.insert(task.id), "once the run returns, the task may run here again")
    }

    /// A run whose node stalled (never gave up): another node took the task, claimed and ended it,
    /// so it has no holder and no `takenFrom`. Every write of the stale run is refused by its claim
    /// token, its agent job was withdrawn by the take-over, and it can queue no other.
    @Test func aStaleRunWritesNothingOnceItsTaskWasClaimedSinceEvenWhenTheTaskEnded() async throws {
        let nodes = try await Self.nodes(["a", "b"], tableClock: true)
        let db = nodes[0].store.db
        let clock = try await Self.tableClock(db)
        try await Self.queued(db, host: "h", count: 1)
        try await db.write { c in
            try await c.execute("""
                INSERT INTO agents(id, hostname, os, arch, version, signingKey, sealingKey, enrolledAt, lastSeenAt)
                VALUES ('ag', 'h', 'linux', 'x86_64', 't', ''::bytea, ''::bytea, 0, 0)
                """)
        }
        var request = Self.request()
        request.token = "claim-a"
        let task = try #require(try await nodes[0].tasks.claim(request, windowClosed: Self.keep, supersededVerify: Self.keep).first)
        let stale = RunningTask(id: task.id, held: HeldTasks(), claim: "claim-a", node: "a")
        let jobs = nodes[0].store.agentJobs
        try await RunningTask.$current.withValue(stale) {
            try await nodes[0].tasks.writePending(Secret("Pending-1!"), id: "p-a", account: task.accountId, by: "ana", at: Self.t0, task: task.id)
            #expect(try await jobs.enqueue(StoreBackend.job("j-a", agent: "ag", at: Self.t0)), "the holder queues")
        }
        try await clock(1040)
        #expect(try await nodes[1].tasks.recoverLapsed(held: [], Self.toReconcile).map(\.id) == [task.id])
        #expect(try await jobs.job("j-a")?.state == .cancelled, "the take-over withdrew the job the agent had not taken")
        request.token = "claim-b"
        let again = try #require(try await nodes[1].tasks.claim(request, windowClosed: Self.keep, supersededVerify: Self.keep).first)
        try await RunningTask.$current.withValue(RunningTask(id: task.id, held: HeldTasks(), claim: "claim-b", node: "b")) {
            try await nodes[1].tasks.finish(again) { t, _ in
                var t = t
                t.end(.succeeded, code: "ok", message: "reconciled by b", at: Self.t0)
                return TaskWrite(task: t)
            }
        }
        let ended = try await db.read { c in try await c.row("SELECT claimedBy, takenFrom FROM tasks WHERE id = ?", [task.id]) }
        #expect(try ended?["claimedBy", as: String?.self] == nil && ended?["takenFrom", as: String?.self] == nil, "no holder, nothing taken from")
        var late = task
        late.phase = .changing
        late.pendingSecretId = "p-a"
        let audit = AuditEvent(user: "system", ip: "t", operation: "late")
        try await RunningTask.$current.withValue(stale) {
            await #expect(throws: StoreError.self) { try await nodes[0].tasks.save(TaskWrite(task: late)) }
            await #expect(throws: StoreError.self) {
                try await nodes[0].tasks.writePending(Secret("Pending-2!"), id: "p-a2", account: task.accountId, by: "ana", at: Self.t0, task: task.id)
            }
            await #expect(throws: StoreError.self) { try await nodes[0].tasks.dropCandidates(["p-a"], task: task.id, audit: audit) }
            await #expect(throws: StoreError.self, "b ended the task keeping the candidate: a may not drop it") {
                try await nodes[0].tasks.dropPending("p-a", task: task.id)
            }
            await #expect(throws: StoreError.self) {
                _ = try await nodes[0].tasks.pinHostKey("SHA256:" + String(repeating: "C", count: 43), resourceID: task.resourceId, task: task.id) { _ in audit }
            }
            late.end(.succeeded, code: "ok", message: "late", at: Self.t0)
            await #expect(throws: StoreError.self) { try await nodes[0].tasks.commit(TaskWrite(task: late), at: Self.t0, listenerTrigger: "late") }
            await #expect(throws: StoreError.self) { _ = try await nodes[0].tasks.promote("p-a", for: task, at: Self.t0, audit: audit) }
            await #expect(throws: StoreError.self) { _ = try await jobs.enqueue(StoreBackend.job("j-a2", agent: "ag", at: Self.t0)) }
        }
        #expect(try await nodes[0].tasks.task(task.id)?.resultMessage == "reconciled by b", "what node b decided stands")
        #expect(try await jobs.job("j-a2") == nil)
        #expect(try await db.read { c in try await c.scalar(Int.self, "SELECT COUNT(*) FROM secrets WHERE id IN ('p-a2')") } == 0)
        #expect(try await db.read { c in try await c.scalar(Int.self, "SELECT COUNT(*) FROM secrets WHERE id = 'p-a'") } == 1, "the candidate stays")
        #expect(try await db.read { c in try await c.scalar(Int.self, "SELECT COUNT(*) FROM audit WHERE operation = 'late'") } == 0)
    }

    /// A node of a release before claim tokens takes and claims without touching the token: the
    /// stale run is still refused, by the holder and by `takenFrom`.
    @Test func aStaleRunIsRefusedWhenANodeWithoutClaimTokensTookItsTask() async throws {
        let nodes = try await Self.nodes(["a", "b"])
        let db = nodes[0].store.db
        try await Self.queued(db, host: "h", count: 1)
        var request = Self.request()
        request.token = "claim-a"
        let task = try #require(try await nodes[0].tasks.claim(request, windowClosed: Self.keep, supersededVerify: Self.keep).first)
        let run = RunningTask(id: task.id, held: HeldTasks(), claim: "claim-a", node: "a")
        try await RunningTask.$current.withValue(run) { try await nodes[0].tasks.save(TaskWrite(task: task)) }
        for (holder, from) in [("NULL", "'a'"), ("'old'", "NULL")] {
            try await db.write { c in try await c.execute("UPDATE tasks SET claimedBy = \(holder), takenFrom = \(from) WHERE id = ?", [task.id]) }
            await #expect(throws: StoreError.self, "held by \(holder), taken from \(from)") {
                try await RunningTask.$current.withValue(run) { try await nodes[0].tasks.save(TaskWrite(task: task)) }
            }
        }
    }

    @Test func aStartingNodeTakesBackOnlyItsOwnTasksAndThoseOfNoLiveNode() async throws {
        let nodes = try await Self.nodes(["a", "b"])
        try await Self.queued(nodes[0].store.db, host: "h", count: 2)
        // Claimed with a 30 s lease on the database's clock: still live.
        let mine = try await nodes[0].tasks.claim(Self.request(), windowClosed: Self.keep, supersededVerify: Self.keep)
        #expect(try await nodes[1].tasks.recover(Self.toReconcile).isEmpty, "b starting does not take a's running tasks")
        let back = try await nodes[0].tasks.recover(Self.toReconcile)
        #expect(Set(back.map(\.id)) == Set(mine.map(\.id)), "a restarted under its name takes its own at once")
        #expect(back.allSatisfy { $0.resultCode != TaskRecord.takenOverCode }, "its own earlier process is gone: not taken over")
        // A running task of no node (or of another, lapsed): its run may still be alive somewhere.
        try await Self.queued(nodes[0].store.db, host: "h2", count: 1)
        let other = try #require(try await nodes[1].tasks.claim(Self.request(), windowClosed: Self.keep, supersededVerify: Self.keep).first)
        try await nodes[0].store.db.write { c in try await c.execute("UPDATE tasks SET claimedBy = NULL WHERE id = ?", [other.id]) }
        let orphan = try await nodes[0].tasks.recover(Self.toReconcile)
        #expect(orphan.map(\.id) == [other.id] && orphan.first?.resultCode == TaskRecord.takenOverCode)
    }

    @Test func theNightlyIntegrityCheckStartsOnceWhenEveryNodeFiresIt() async throws {
        let nodes = try await Self.nodes(["a", "b", "c"])
        try await Self.queued(nodes[0].store.db, host: "h", count: 1)
        let runs = try await withThrowingTaskGroup(of: String?.self) { group in
            for n in nodes {
                group.addTask {
                    try await n.runs.startIntegrity(trigger: "nightly", by: "system", at: Self.t0,
                        nightly: { $0.lastRunAt == nil ? .run : .skip }, plan: { _ in [] },
                        audit: { run in AuditEvent(user: "system", ip: "server", operation: "integrity_check", message: run.id) })?.id
                }
            }
            return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
        }
        #expect(runs.count == 1, "one node ran it; the others found it done")
        let audited = try await nodes[0].store.db.read { c in
            try await c.scalar(Int.self, "SELECT COUNT(*) FROM audit WHERE operation = 'integrity_check'")
        }
        #expect(audited == 1)
    }

    /// A group's scheduled rotation fired by three nodes at the same minute starts one run: the
    /// start re-checks that it is due inside its transaction, under the writer lock.
    @Test func aScheduledRotationStartsOnceWhenEveryNodeFiresIt() async throws {
        let nodes = try await Self.nodes(["a", "b", "c"])
        let db = nodes[0].store.db
        let ana = TaskStoreConformance.ana
        let rid = newID()
        try await db.write { c in
            try await c.execute("INSERT INTO users(id, username, passwordHash, role, createdAt) VALUES ('u-ana', 'ana', 'x', 'administrator', 0)")
            try await c.execute("INSERT INTO resources(id, name, dnsName, type, ownerId, createdAt, updatedAt) VALUES (?, 'web01', 'h', 'Linux', 'u-ana', 0, 0)",
                [rid])
            try await c.execute("INSERT INTO resetConfigs(resourceId, json) VALUES (?, '{\"mode\":\"agentless\",\"loginAccount\":\"a1\"}')", [rid])
            for login in ["a1", "a2", "a3"] {
                try await c.execute("INSERT INTO accounts(id, resourceId, loginName, createdAt) VALUES (?, ?, ?, 0)", [newID(), rid, login])
            }
        }
        _ = try await nodes[0].store.groups.create(GroupRecord(id: "g-web", name: "web", ownerId: "u-ana", passwordPolicy: nil, createdAt: Self.t0),
            resourceIds: [rid], by: ana, check: { _, _, _ in }, audit: AuditEvent(user: "ana", ip: "t", operation: "create_group"))
        _ = try await nodes[0].store.rotations.save(RotationConfig(schedule: RotationSchedule(kind: .days, at: "02:00", everyDays: 1), passwordChoice: .unique),
            for: "g-web", at: Self.t0, by: ana, authorize: TaskStoreConformance.anyone,
            audit: { _ in AuditEvent(user: "ana", ip: "t", operation: "rotation_change") })
        let at = Self.t0.addingTimeInterval(86400 * 2)
        let started = try await withThrowingTaskGroup(of: String?.self) { group in
            for n in nodes {
                group.addTask {
                    try await n.runs.startRotation(of: "g-web", trigger: "schedule", by: "schedule", at: at, ranAt: at, caller: nil,
                        authorize: TaskStoreConformance.anyone, due: { saved in saved?.lastRunAt == nil }, plan: RunStoreConformance.plan,
                        audit: RunStoreConformance.runAudit)?.id
                }
            }
            return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
        }
        #expect(started.count == 1, "one node started it; the others found it done: \(started)")
        let audited = try await db.read { c in try await c.scalar(Int.self, "SELECT COUNT(*) FROM audit WHERE operation = 'rotation_run'") }
        #expect(audited == 1)
        let queued = try await db.read { c in try await c.scalar(Int.self, "SELECT COUNT(*) FROM tasks") }
        #expect(queued == 2, "the run's resets queued once (the first account is skipped by the plan)")
    }
}
