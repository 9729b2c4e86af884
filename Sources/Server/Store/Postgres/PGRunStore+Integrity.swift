import Foundation

/// The integrity check: its schedule in `settings`, its runs in `integrityRuns`, and the report.
/// The nightly run is decided on `integrity.lastRunAt` inside the start's transaction: once per
/// night across the cluster.
extension PGRunStore {
    func integritySettings() async throws -> IntegritySettings {
        try await db.read { c in try await Self.integritySettings(c) }
    }

    static func integritySettings(_ c: PGConnection) async throws -> IntegritySettings {
        IntegritySettings(dailyAt: try await PGCatalog.setting(Settings.integrityDailyAt, c),
            timeZone: try await PGCatalog.setting(Settings.integrityTimeZone, c),
            lastRunAt: try await PGCatalog.setting(Settings.integrityLastRunAt, c).flatMap(Double.init).map(Date.init(timeIntervalSince1970:)))
    }

    func saveIntegritySettings(dailyAt: String?, timeZone: String?, audit: AuditEvent) async throws {
        try await db.write { c in
            if let dailyAt { try await PGCatalog.set(Settings.integrityDailyAt, dailyAt, c) }
            if let timeZone { try await PGCatalog.set(Settings.integrityTimeZone, timeZone, c) }
            try await log.append(audit, c)
        }
    }

    func startIntegrity(trigger: String, by user: String, at: Date, nightly: (@Sendable (IntegritySettings) -> NightlyDecision)?,
        plan: @Sendable ([[RunCandidate]]) throws -> [RunStep], audit: @Sendable (RotationRunRecord) -> AuditEvent) async throws
        -> RotationRunRecord?
    {
        try await db.write { c in
            if let nightly {
                let decision = nightly(try await Self.integritySettings(c))
                if decision == .skip { return nil }
                try await PGCatalog.set(Settings.integrityLastRunAt, String(at.seconds), c)
                if decision == .noteOnly { return nil }
            }
            var candidates: [[RunCandidate]] = []
            for r in try await c.all(ResourceRecord.self, "SELECT r.* FROM resources r JOIN resetConfigs c ON c.resourceId = r.id ORDER BY r.name") {
                candidates.append(try await Self.candidates(r, c))
            }
            let steps = try plan(candidates)
            var run = RotationRunRecord(id: newID(), groupId: "", trigger: trigger, requestedBy: user, startedAt: at.seconds, entries: [])
            run.entries = try await write(steps, rotationRun: nil, integrityRun: run.id, c)
            try await c.execute("INSERT INTO integrityRuns(id, trigger, requestedBy, startedAt, entries) VALUES (?, ?, ?, ?, ?)",
                [run.id, trigger, user, run.startedAt, String(decoding: try JSONEncoder.api.encode(run.entries), as: UTF8.self)])
            try await log.append(audit(run), c)
            return run
        }
    }

    func integrityRun(_ id: String, visibleTo p: Principal) async throws -> RotationRunView? {
        try await db.read { c in
            guard let row = try await c.row("SELECT *, '' AS groupId FROM integrityRuns WHERE id = ?", [id]) else { return nil }
            return try await Self.view(row, scope: try await ListScope.of(p, c), c)
        }
    }

    func integrityReport(visibleTo p: Principal) async throws -> [IntegrityRow] {
        try await db.read { c in
            let scope = try await ListScope.of(p, c)
            return try await c.rows("""
                SELECT r.id AS rid, r.name AS rname, a.id AS aid, a.loginName, a.syncStatus, a.lastVerifiedAt, a.lastChangedAt,
                  c.json AS config, (SELECT createdBy FROM secrets s WHERE s.accountId = a.id AND s.state = 'current') AS changedBy
                FROM accounts a JOIN resources r ON r.id = a.resourceId JOIN resetConfigs c ON c.resourceId = r.id
                ORDER BY r.name, a.loginName
                """).filter { scope.sees(resourceId: try $0["rid"], accountId: try $0["aid"]) }.map { row -> IntegrityRow in
                IntegrityRow(resourceId: try row["rid"], resource: try row["rname"], accountId: try row["aid"], account: try row["loginName"],
                    status: try row["syncStatus"], viaAgent: ResetConfig.decode(try row["config"])?.mode == .agent,
                    lastVerifiedAt: try row["lastVerifiedAt"], lastChangedAt: try row["lastChangedAt"], lastChangedBy: try row["changedBy"])
            }
        }
    }
}
