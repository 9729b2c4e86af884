import Foundation
import GRDB
import Shared

/// Group rotations: a run queues one reset per account of the group's resources that has remote
/// reset, skipping (and reporting) accounts already in a reset or that the target cannot take.
extension Custody {
    func rotation(_ groupId: String, _ db: Database) throws -> SavedRotation? { try SQLiteRotationStore.saved(groupId, db) }

    /// Starts a run now; `by` is the user or `schedule`.
    func startRotation(_ g: GroupRecord, config: RotationConfig, trigger: String, by user: String, _ db: Database) throws -> RotationRunRecord {
        let at = now()
        var run = RotationRunRecord(id: newID(), groupId: g.id, trigger: trigger, requestedBy: user, startedAt: at.seconds, entries: [])
        let notAfter = config.schedule.windowEnd(after: at)?.seconds
        let resources = try ResourceRecord.fetchAll(db, sql: """
            SELECT r.* FROM resources r JOIN groupResources gr ON gr.resourceId = r.id
            JOIN resetConfigs c ON c.resourceId = r.id WHERE gr.groupId = ? ORDER BY r.name
            """, arguments: [g.id])
        var common: Secret? = nil
        if config.passwordChoice == .common, let first = resources.first {
            common = try PasswordGenerator().generate(for: try Catalog.effectivePolicy(for: first, db), loginName: "")
        }
        for r in resources {
            let accounts = try AccountRecord.filter(Column("resourceId") == r.id).order(Column("loginName")).fetchAll(db)
            guard let first = accounts.first else { continue }
            // One misconfigured resource is skipped and reported; the run and the others commit together.
            let refs: ResetConfig
            do { refs = try resetTarget(r, first, db).config } catch let error as DomainError {
                for a in accounts {
                    var entry = RotationRunRecord.Entry(resourceId: r.id, accountId: a.id, resource: r.name, account: a.loginName)
                    entry.skipped = error.message
                    run.entries.append(entry)
                }
                continue
            }
            let helpers = Set([refs.loginAccount, refs.rootAccount, refs.enableAccount].compactMap { $0 })
            for a in accounts {
                var entry = RotationRunRecord.Entry(resourceId: r.id, accountId: a.id, resource: r.name, account: a.loginName)
                defer { run.entries.append(entry) }
                if helpers.contains(a.id) || helpers.contains(a.loginName) {
                    entry.skipped = "the reset config uses this account to log in or elevate"
                    continue
                }
                if try resetUnderWay(a.id, db) {
                    entry.skipped = "a reset of this account is already under way"
                    continue
                }
                let target: ResetTarget
                do {
                    target = try resetTarget(r, a, db)
                    try target.checkLoginName()
                } catch let error as DomainError {
                    entry.skipped = error.message
                    continue
                }
                var t = try newTask(.reset, r, a, by: user, reason: "rotation of group \(g.name)", db)
                t.notAfter = notAfter
                t.rotationRunId = run.id
                if let common {
                    let policy = try Catalog.effectivePolicy(for: r, db)
                    if let problem = target.plugin.descriptor.constraints.problem(with: common)
                        ?? policy.violations(of: common, loginName: a.loginName).first
                    {
                        entry.skipped = "the common password does not fit this account: \(problem)"
                        continue
                    }
                    let sid = newID()
                    try secrets.writePending(common, id: sid, account: a.id, by: user, at: at, db)
                    t.pendingSecretId = sid
                    t.newPasswordGiven = true
                }
                try t.insert(db)
                entry.taskId = t.id
            }
        }
        try db.execute(sql: "INSERT INTO rotationRuns(id, groupId, trigger, requestedBy, startedAt, entries) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [run.id, g.id, trigger, user, run.startedAt, String(decoding: try JSONEncoder.api.encode(run.entries), as: UTF8.self)])
        let queued = run.entries.filter { $0.taskId != nil }.count
        try AuditLog.append(AuditEvent(user: user, ip: "server", operation: "rotation_run",
            message: "group \(g.name), run \(run.id) (\(trigger)): \(queued) resets queued, \(run.entries.count - queued) skipped"), in: db)
        db.afterNextTransaction { _ in taskSignal.poke() }
        return run
    }

    /// The scheduler's tick: every rotation whose next run is due starts once, however many runs
    /// a downtime missed; outside its allowed hours it waits for the window.
    @discardableResult
    func runDueRotations() async throws -> [String] {
        let at = now()
        return try await store.write { db in
            var started: [String] = []
            for id in try String.fetchAll(db, sql: "SELECT groupId FROM rotations") {
                guard let saved = try rotation(id, db), let next = saved.nextRunAt, next <= at, saved.config.schedule.allows(at),
                    let g = try GroupRecord.fetchOne(db, key: id)
                else { continue }
                do {
                    started.append(try startRotation(g, config: saved.config, trigger: "schedule", by: "schedule", db).id)
                } catch {
                    try AuditLog.append(AuditEvent(user: "schedule", ip: "server", operation: "rotation_run", outcome: "failure",
                        message: "group \(g.name): \(Self.describe(error))"), in: db)
                }
                try db.execute(sql: "UPDATE rotations SET lastRunAt = ? WHERE groupId = ?", arguments: [at.seconds, id])
            }
            return started
        }
    }
}
