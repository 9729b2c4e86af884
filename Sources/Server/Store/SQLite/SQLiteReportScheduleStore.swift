import Foundation
import GRDB

struct SQLiteReportScheduleStore: ReportScheduleStore {
    let db: DatabasePool
    /// Wakes the sender once the mails are committed.
    let queued: @Sendable () -> Void

    func reportSchedule() async throws -> SavedReportSchedule? {
        try await db.read { db in
            ReportScheduleKeys.decode(try Settings.get(ReportScheduleKeys.settings, db), lastSent: try Settings.get(ReportScheduleKeys.lastSent, db))
        }
    }

    func saveReportSchedule(_ s: ReportScheduleSettings?, at: Date, audit: AuditEvent) async throws {
        try await db.write { db in
            if let s {
                try Settings.set(ReportScheduleKeys.settings, try ReportScheduleKeys.encode(s, savedAt: at), db)
            } else {
                try db.execute(sql: "DELETE FROM settings WHERE key IN (?, ?)", arguments: [ReportScheduleKeys.settings, ReportScheduleKeys.lastSent])
            }
            try AuditLog.append(audit, in: db)
        }
    }

    func sendScheduledReports(_ mails: [OutboxEntry], at: Date, previous: Date?, made: Date, audit: AuditEvent) async throws -> Bool {
        try await db.write { [queued] db in
            let last = try Settings.get(ReportScheduleKeys.lastSent, db)
            guard ReportScheduleKeys.decode(try Settings.get(ReportScheduleKeys.settings, db), lastSent: last)?.savedAt == made,
                last == previous.map({ String($0.timeIntervalSince1970) })
            else { return false }
            for m in mails { try SQLiteOutboxStore.insert(m, db) }
            try Settings.set(ReportScheduleKeys.lastSent, String(at.timeIntervalSince1970), db)
            try AuditLog.append(audit, in: db)
            if !mails.isEmpty { db.afterNextTransaction { _ in queued() } }
            return true
        }
    }
}
