import Foundation
import GRDB
import Shared

/// The integrity check (PMP's nightly 1 AM check): every account with remote reset is verified
/// with its stored password. Authentication failure is out of sync; unreachable is not. The
/// engine's per-host limit spreads the load; each account is verified once per run.
extension Custody {
    /// The nightly schedule: `dailyAt` (default 01:00) in `timeZone` (default the server's).
    func integritySchedule(_ db: Database) throws -> RotationSchedule {
        RotationSchedule(kind: .days, at: try Settings.get(Settings.integrityDailyAt, db) ?? "01:00", everyDays: 1,
            timeZone: try Settings.get(Settings.integrityTimeZone, db))
    }

    func startIntegrityRun(trigger: String, by user: String, _ db: Database) throws -> RotationRunRecord {
        let at = now()
        var run = RotationRunRecord(id: newID(), groupId: "", trigger: trigger, requestedBy: user, startedAt: at.seconds, entries: [])
        let resources = try ResourceRecord.fetchAll(db, sql: """
            SELECT r.* FROM resources r JOIN resetConfigs c ON c.resourceId = r.id ORDER BY r.name
            """)
        for r in resources {
            for a in try AccountRecord.filter(Column("resourceId") == r.id).order(Column("loginName")).fetchAll(db) {
                var entry = RotationRunRecord.Entry(resourceId: r.id, accountId: a.id, resource: r.name, account: a.loginName)
                defer { run.entries.append(entry) }
                if try resetUnderWay(a.id, db) {
                    entry.skipped = "a reset of this account is under way"
                    continue
                }
                if try verifyUnderWay(a.id, db) {
                    entry.skipped = "a verify of this account is already under way"
                    continue
                }
                do { try resetTarget(r, a, db).checkLoginName() } catch {
                    entry.skipped = Self.describe(error)
                    continue
                }
                var t = try newTask(.verify, r, a, by: user, reason: "integrity check", db)
                t.integrityRunId = run.id
                try t.insert(db)
                entry.taskId = t.id
            }
        }
        try db.execute(sql: "INSERT INTO integrityRuns(id, trigger, requestedBy, startedAt, entries) VALUES (?, ?, ?, ?, ?)",
            arguments: [run.id, trigger, user, run.startedAt, String(decoding: try JSONEncoder.api.encode(run.entries), as: UTF8.self)])
        let queued = run.entries.filter { $0.taskId != nil }.count
        try AuditLog.append(AuditEvent(user: user, ip: "server", operation: "integrity_run",
            message: "run \(run.id) (\(trigger)): \(queued) verifies queued, \(run.entries.count - queued) skipped"), in: db)
        db.afterNextTransaction { _ in taskSignal.poke() }
        return run
    }

    /// The nightly run, once per day however long the server was down.
    @discardableResult
    func runDueIntegrity() async throws -> String? {
        let at = now()
        return try await store.write { db -> String? in
            let schedule = try integritySchedule(db)
            guard let last = try Settings.get(Settings.integrityLastRunAt, db).flatMap(Double.init).map(Date.init(timeIntervalSince1970:)) else {
                // First start: the first run is the next occurrence from now.
                try Settings.set(Settings.integrityLastRunAt, String(at.seconds), db)
                return nil
            }
            guard let next = schedule.next(after: last, saved: last), next <= at else { return nil }
            try Settings.set(Settings.integrityLastRunAt, String(at.seconds), db)
            return try startIntegrityRun(trigger: "nightly", by: "schedule", db).id
        }
    }
}
