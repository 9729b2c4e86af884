import Foundation
import GRDB

/// The integrity check: its schedule in `settings`, its runs in `integrityRuns`, and the report.
extension SQLiteRunStore {
    func integritySettings() async throws -> IntegritySettings {
        try await db.read { db in try Self.integritySettings(db) }
    }

    static func integritySettings(_ db: Database) throws -> IntegritySettings {
        IntegritySettings(dailyAt: try Settings.get(Settings.integrityDailyAt, db), timeZone: try Settings.get(Settings.integrityTimeZone, db),
            lastRunAt: try Settings.get(Settings.integrityLastRunAt, db).flatMap(Double.init).map(Date.init(timeIntervalSince1970:)))
    }

    func saveIntegritySettings(dailyAt: String?, timeZone: String?, audit: AuditEvent) async throws {
        try await db.write { db in
            if let dailyAt { try Settings.set(Settings.integrityDailyAt, dailyAt, db) }
            if let timeZone { try Settings.set(Settings.integrityTimeZone, timeZone, db) }
            try AuditLog.append(audit, in: db)
        }
    }

    func startIntegrity(trigger: String, by user: String, at: Date, nightly: (@Sendable (IntegritySettings) -> NightlyDecision)?,
        plan: @Sendable ([[RunCandidate]]) throws -> [RunStep], audit: @Sendable (RotationRunRecord) -> AuditEvent) async throws
        -> RotationRunRecord?
    {
        try await db.write { db in
            if let nightly {
                let decision = nightly(try Self.integritySettings(db))
                if decision == .skip { return nil }
                try Settings.set(Settings.integrityLastRunAt, String(at.seconds), db)
                if decision == .noteOnly { return nil }
            }
            let resources = try ResourceRecord.fetchAll(db, sql: "SELECT r.* FROM resources r JOIN resetConfigs c ON c.resourceId = r.id ORDER BY r.name")
            let steps = try plan(try resources.map { try Self.candidates($0, db) })
            var run = RotationRunRecord(id: newID(), groupId: "", trigger: trigger, requestedBy: user, startedAt: at.seconds, entries: [])
            run.entries = try write(steps, rotationRun: nil, integrityRun: run.id, db)
            try db.execute(sql: "INSERT INTO integrityRuns(id, trigger, requestedBy, startedAt, entries) VALUES (?, ?, ?, ?, ?)",
                arguments: [run.id, trigger, user, run.startedAt, String(decoding: try JSONEncoder.api.encode(run.entries), as: UTF8.self)])
            try AuditLog.append(audit(run), in: db)
            return run
        }
    }

    func integrityRun(_ id: String, visibleTo p: Principal) async throws -> RotationRunView? {
        try await db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT *, '' AS groupId FROM integrityRuns WHERE id = ?", arguments: [id]) else { return nil }
            return try Self.view(row, scope: try ListScope.of(p, db), db)
        }
    }

    func integrityReport(visibleTo p: Principal) async throws -> [IntegrityRow] {
        try await db.read { db in
            let scope = try ListScope.of(p, db)
            return try Row.fetchAll(db, sql: """
                SELECT r.id AS rid, r.name AS rname, a.id AS aid, a.loginName, a.syncStatus, a.lastVerifiedAt, a.lastChangedAt,
                  c.json AS config, (SELECT createdBy FROM secrets s WHERE s.accountId = a.id AND s.state = 'current') AS changedBy
                FROM accounts a JOIN resources r ON r.id = a.resourceId JOIN resetConfigs c ON c.resourceId = r.id
                ORDER BY r.name, a.loginName
                """).filter { scope.sees(resourceId: $0["rid"], accountId: $0["aid"]) }.map { row -> IntegrityRow in
                IntegrityRow(resourceId: row["rid"], resource: row["rname"], accountId: row["aid"], account: row["loginName"],
                    status: row["syncStatus"], viaAgent: ResetConfig.decode(row["config"])?.mode == .agent,
                    lastVerifiedAt: row["lastVerifiedAt"] as Date?, lastChangedAt: row["lastChangedAt"] as Date?, lastChangedBy: row["changedBy"])
            }
        }
    }
}
