import Foundation

struct PGReportScheduleStore: ReportScheduleStore {
    let db: PGDatabase
    let log: PGAuditLog
    /// Wakes the sender once the mails are committed.
    let queued: @Sendable () -> Void

    func reportSchedule() async throws -> SavedReportSchedule? {
        try await db.read { c in
            ReportScheduleKeys.decode(try await PGCatalog.setting(ReportScheduleKeys.settings, c),
                lastSent: try await PGCatalog.setting(ReportScheduleKeys.lastSent, c))
        }
    }

    func saveReportSchedule(_ s: ReportScheduleSettings?, at: Date, audit: AuditEvent) async throws {
        try await db.write { c in
            if let s {
                try await PGCatalog.set(ReportScheduleKeys.settings, try ReportScheduleKeys.encode(s, savedAt: at), c)
            } else {
                try await c.execute("DELETE FROM settings WHERE key IN (?, ?)", [ReportScheduleKeys.settings, ReportScheduleKeys.lastSent])
            }
            try await log.append(audit, c)
        }
    }

    func sendScheduledReports(_ mails: [OutboxEntry], at: Date, previous: Date?, made: Date, audit: AuditEvent) async throws -> Bool {
        try await db.write { c in
            // Writes hold the writer lock: one node at a time reads the mark and moves it.
            let last = try await PGCatalog.setting(ReportScheduleKeys.lastSent, c)
            guard ReportScheduleKeys.decode(try await PGCatalog.setting(ReportScheduleKeys.settings, c), lastSent: last)?.savedAt == made,
                last == previous.map({ String($0.timeIntervalSince1970) })
            else { return false }
            for m in mails { try await PGOutboxStore.insert(m, c) }
            try await PGCatalog.set(ReportScheduleKeys.lastSent, String(at.timeIntervalSince1970), c)
            try await log.append(audit, c)
            if !mails.isEmpty { c.afterCommit(queued) }
            return true
        }
    }
}
