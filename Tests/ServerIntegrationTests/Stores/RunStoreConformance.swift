import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `RunStore` must do: a run is its tasks, their pending passwords, its entries
/// and its audit record in one step, or nothing; a scheduled start re-checks in its transaction that
/// it is due, so it runs once; the nightly check notes its first look and runs once a night; an
/// expiry is recorded once per password; each rotation notice goes out once.
@Suite struct RunStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let ana = TaskStoreConformance.ana
    static let bo = TaskStoreConformance.bo
    static let anyone: @Sendable (Permission) throws -> Void = { _ in }
    static let runAudit: @Sendable (GroupRecord, RotationRunRecord) -> AuditEvent = { g, run in
        AuditEvent(user: "ana", ip: "t", operation: "rotation_run", message: "\(g.name) \(run.entries.count)")
    }

    /// A group of ana's holding one resource with two accounts, configured for agentless resets.
    static func group(_ b: StoreBackend) async throws -> (gid: String, f: (rid: String, aid: String), other: String) {
        let f = try await TaskStoreConformance.fixture(b, login: "a1")
        let other = try await b.addAccount(f.rid, "a2")
        _ = try await b.groups.create(GroupRecord(id: "g-web", name: "web", ownerId: "u-ana", passwordPolicy: nil, createdAt: t0),
            resourceIds: [f.rid], by: ana, check: { _, _, _ in }, audit: AuditEvent(user: "ana", ip: "t", operation: "create_group"))
        return ("g-web", f, other)
    }

    /// Every account a reset with one given password, but the first skipped.
    static let plan: @Sendable (GroupRecord, RotationConfig?, [[RunCandidate]]) throws -> [RunStep] = { _, _, resources in
        resources.flatMap { $0 }.enumerated().map { i, c in
            var step = RunStep(entry: RotationRunRecord.Entry(resourceId: c.target.resource.id, accountId: c.target.account.id,
                resource: c.target.resource.name, account: c.target.account.loginName))
            if i == 0 {
                step.entry.skipped = "first"
            } else {
                var t = ResetEngine.newTask(.reset, c.target, by: "ana", reason: nil, at: t0)
                t.pendingSecretId = "p-" + c.target.account.loginName
                step.task = t
                step.pending = Secret("Common-1!")
            }
            return step
        }
    }

    @Test(arguments: StoreBackend.names("runs"))
    func aRotationIsItsTasksEntriesAndAuditInOneStep(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let g = try await Self.group(b)
        #expect(try await b.runs.startRotation(of: g.gid, trigger: "manual", by: "bo", at: Self.t0, ranAt: nil, caller: Self.bo,
            authorize: Self.anyone, due: { _ in true }, plan: Self.plan, audit: Self.runAudit) == nil)
        #expect(try await b.runs.startRotation(of: g.gid, trigger: "schedule", by: "schedule", at: Self.t0, ranAt: Self.t0, caller: nil,
            authorize: Self.anyone, due: { _ in false }, plan: Self.plan, audit: Self.runAudit) == nil)
        await #expect(throws: DomainError.self) {
            _ = try await b.runs.startRotation(of: g.gid, trigger: "manual", by: "ana", at: Self.t0, ranAt: nil, caller: Self.ana,
                authorize: Self.anyone, due: { _ in true }, plan: { _, _, _ in throw DomainError.invalid("no", "refused") }, audit: Self.runAudit)
        }
        #expect(try await b.auditOperations().filter { $0 == "rotation_run" }.isEmpty)
        let run = try #require(try await b.runs.startRotation(of: g.gid, trigger: "manual", by: "ana", at: Self.t0, ranAt: nil, caller: Self.ana,
            authorize: Self.anyone, due: { saved in saved == nil }, plan: Self.plan, audit: Self.runAudit))
        #expect(run.entries.map(\.account) == ["a1", "a2"] && run.entries[0].skipped == "first" && run.entries[1].taskId != nil)
        let tid = try #require(run.entries[1].taskId)
        let task = try #require(try await b.tasks.task(tid))
        #expect(task.rotationRunId == run.id && task.accountId == g.other)
        #expect(try await b.tasks.pending("p-a2", account: g.other)?.reveal() == "Common-1!")
        let view = try #require(try await b.runs.rotationRun(run.id, visibleTo: Self.ana, authorize: Self.anyone))
        #expect(view.summary.skipped == 1 && view.summary.pending == 1 && view.state == "running" && view.groupId == g.gid)
        #expect(try await b.runs.rotationRun(run.id, visibleTo: Self.bo, authorize: Self.anyone) == nil)
        #expect(try await b.auditOperations().filter { $0 == "rotation_run" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("runs"))
    func aScheduledRotationRecordsItsRunOrItsFailure(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let g = try await Self.group(b)
        _ = try await b.rotations.save(RotationConfig(schedule: RotationSchedule(kind: .days, at: "02:00", everyDays: 1), passwordChoice: .unique),
            for: g.gid, at: Self.t0, by: Self.ana, authorize: Self.anyone, audit: { _ in AuditEvent(user: "ana", ip: "t", operation: "rotation_change") })
        #expect(try await b.runs.scheduledGroups().map(\.id) == [g.gid])
        let at = Self.t0.addingTimeInterval(86400 * 2)
        _ = try #require(try await b.runs.startRotation(of: g.gid, trigger: "schedule", by: "schedule", at: at, ranAt: at, caller: nil,
            authorize: Self.anyone, due: { saved in saved?.lastRunAt == nil }, plan: Self.plan, audit: Self.runAudit))
        #expect(try await b.runs.startRotation(of: g.gid, trigger: "schedule", by: "schedule", at: at, ranAt: at, caller: nil,
            authorize: Self.anyone, due: { saved in saved?.lastRunAt == nil }, plan: Self.plan, audit: Self.runAudit) == nil)
        try await b.runs.rotationFailed(g.gid, at: at.addingTimeInterval(60), audit: AuditEvent(user: "schedule", ip: "t", operation: "rotation_failed"))
        guard case .found(_, let saved?) = try await b.rotations.rotation(of: g.gid, visibleTo: Self.ana, authorize: Self.anyone) else {
            Issue.record("the schedule stays")
            return
        }
        #expect(saved.lastRunAt == at.addingTimeInterval(60))
        #expect(try await b.auditOperations().suffix(2) == ["rotation_run", "rotation_failed"])
    }

    @Test(arguments: StoreBackend.names("runs"))
    func theNightlyCheckNotesItsFirstLookAndRunsOverEveryConfiguredAccount(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let g = try await Self.group(b)
        let verifyAll: @Sendable ([[RunCandidate]]) throws -> [RunStep] = { resources in
            resources.flatMap { $0 }.map { c in
                RunStep(entry: RotationRunRecord.Entry(resourceId: c.target.resource.id, accountId: c.target.account.id,
                    resource: c.target.resource.name, account: c.target.account.loginName),
                    task: ResetEngine.newTask(.verify, c.target, by: "schedule", reason: nil, at: Self.t0))
            }
        }
        let audit: @Sendable (RotationRunRecord) -> AuditEvent = { _ in AuditEvent(user: "schedule", ip: "t", operation: "integrity_run") }
        #expect(try await b.runs.integritySettings().lastRunAt == nil)
        #expect(try await b.runs.startIntegrity(trigger: "nightly", by: "schedule", at: Self.t0, nightly: { _ in .noteOnly }, plan: verifyAll,
            audit: audit) == nil)
        #expect(try await b.runs.integritySettings().lastRunAt == Self.t0)
        #expect(try await b.runs.startIntegrity(trigger: "nightly", by: "schedule", at: Self.t0.addingTimeInterval(60), nightly: { _ in .skip },
            plan: verifyAll, audit: audit) == nil)
        #expect(try await b.runs.integritySettings().lastRunAt == Self.t0)
        let run = try #require(try await b.runs.startIntegrity(trigger: "nightly", by: "schedule", at: Self.t0.addingTimeInterval(120),
            nightly: { s in s.lastRunAt == Self.t0 ? .run : .skip }, plan: verifyAll, audit: audit))
        #expect(run.entries.count == 2 && run.entries.allSatisfy { $0.taskId != nil })
        let first = try #require(run.entries.first?.taskId)
        #expect(try await b.tasks.task(first)?.integrityRunId == run.id)
        #expect(try await b.runs.integritySettings().lastRunAt == Self.t0.addingTimeInterval(120))
        #expect(try await b.runs.integrityRun(run.id, visibleTo: Self.ana)?.summary.pending == 2)
        let report = try await b.runs.integrityReport(visibleTo: Self.ana)
        #expect(report.map(\.account) == ["a1", "a2"] && report.allSatisfy { $0.resourceId == g.f.rid && !$0.viaAgent })
        try await b.runs.saveIntegritySettings(dailyAt: "03:30", timeZone: "UTC", audit: AuditEvent(user: "ana", ip: "t", operation: "save_settings"))
        let s = try await b.runs.integritySettings()
        #expect(s.dailyAt == "03:30" && s.timeZone == "UTC")
        #expect(try await b.auditOperations().filter { $0 == "integrity_run" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("runs"))
    func anExpiryIsRecordedOncePerPassword(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let f = try await TaskStoreConformance.fixture(b)
        try await b.setPassword(f.aid, Secret("Old-1!"))
        let expire: @Sendable (ExpiryCandidate) -> ExpiryStep? = { c in
            ExpiryStep(audit: AuditEvent(user: "system", ip: "t", operation: "password_expired", accountId: c.target.account.id),
                notice: Notice(NotificationFacts(.passwordExpired), accounts: [c.target.account.id]),
                task: ResetEngine.newTask(.reset, c.target, by: "expiry", reason: "expired", at: Self.t0))
        }
        #expect(try await b.runs.recordExpiries(at: Self.t0) { _ in nil }.isEmpty)
        #expect(try await b.runs.recordExpiries(at: Self.t0, step: expire) == [f.aid])
        #expect(try await b.runs.recordExpiries(at: Self.t0, step: expire).isEmpty)
        #expect(try await b.tasks.tasks(visibleTo: Self.ana, mine: false, state: .queued, limit: 5).count == 1)
        try await b.setPassword(f.aid, Secret("Newer-1!"))
        let again = try await b.runs.recordExpiries(at: Self.t0) { c in
            #expect(c.resetUnderWay && !c.resetOnExpiry)
            return ExpiryStep(audit: AuditEvent(user: "system", ip: "t", operation: "password_expired"),
                notice: Notice(NotificationFacts(.passwordExpired)), task: nil)
        }
        #expect(again == [f.aid])
        #expect(try await b.auditOperations().filter { $0 == "password_expired" }.count == 2)
    }

    @Test(arguments: StoreBackend.names("runs"))
    func eachRotationNoticeGoesOutOnce(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let g = try await Self.group(b)
        _ = try await b.rotations.save(RotationConfig(schedule: RotationSchedule(kind: .days, at: "02:00", everyDays: 1), passwordChoice: .unique),
            for: g.gid, at: Self.t0, by: Self.ana, authorize: Self.anyone, audit: { _ in AuditEvent(user: "ana", ip: "t", operation: "rotation_change") })
        let seen = Seen()
        let pre: @Sendable (GroupRecord, SavedRotation, [RotationRunRecord.Entry]) -> Notice? = { g, _, accounts in
            seen.add("pre \(g.name) \(accounts.map(\.account).joined(separator: ","))")
            return Notice(NotificationFacts(.rotationUpcoming))
        }
        let post: @Sendable (RotationRunView, GroupRecord?, SavedRotation?) -> Notice = { view, g, saved in
            seen.add("post \(g?.name ?? "-") \(view.summary.total) \(saved != nil)")
            return Notice(NotificationFacts(.rotationCompleted))
        }
        let run = try #require(try await b.runs.startRotation(of: g.gid, trigger: "manual", by: "ana", at: Self.t0, ranAt: nil, caller: Self.ana,
            authorize: Self.anyone, due: { _ in true }, plan: { _, _, resources in
                resources.flatMap { $0 }.map { c in
                    RunStep(entry: RotationRunRecord.Entry(resourceId: c.target.resource.id, accountId: c.target.account.id,
                        resource: c.target.resource.name, account: c.target.account.loginName))
                }
            }, audit: Self.runAudit))
        #expect(run.entries.allSatisfy { $0.skipped == nil && $0.taskId == nil })
        try await b.runs.sendRotationNotices(at: Self.t0, pre: pre, post: post)
        try await b.runs.sendRotationNotices(at: Self.t0, pre: pre, post: post)
        #expect(seen.values == ["pre web a1,a2", "post web 2 true"])
    }
}
