import Foundation
import GRDB

/// Listener runs: claimed by `ListenerRunner`, their result audited, then removed.
extension SQLiteListenerStore {
    func claimRuns(limit: Int) async throws -> [ListenerRunRecord] {
        guard limit > 0 else { return [] }
        let queued = ListenerRunRecord.filter(Column("state") == ListenerRunRecord.State.queued.rawValue)
        guard try await db.read({ db in try queued.fetchCount(db) }) > 0 else { return [] }
        return try await db.write { db in
            var runs = try queued.order(Column("createdAt")).limit(limit).fetchAll(db)
            for i in runs.indices {
                runs[i].state = .running
                try runs[i].update(db)
            }
            return runs
        }
    }

    func abandonInterrupted(audit: @Sendable (ListenerRunRecord, String) -> AuditEvent) async throws -> Int {
        try await db.write { db in
            let runs = try ListenerRunRecord.filter(Column("state") == ListenerRunRecord.State.running.rawValue).fetchAll(db)
            for run in runs {
                let name = try String.fetchOne(db, sql: "SELECT name FROM listeners WHERE id = ?", arguments: [run.listenerId]) ?? run.listenerId
                try AuditLog.append(audit(run, name), in: db)
                try run.delete(db)
            }
            return runs.count
        }
    }

    func runFacts(_ run: ListenerRunRecord) async throws -> ListenerRunFacts {
        try await db.read { db in
            ListenerRunFacts(listener: try ListenerRecord.fetchOne(db, key: run.listenerId), resource: try ResourceRecord.fetchOne(db, key: run.resourceId),
                account: try AccountRecord.fetchOne(db, key: run.accountId), config: try ResetConfig.stored(for: run.resourceId, db))
        }
    }

    func finish(_ run: ListenerRunRecord, audit: AuditEvent) async throws {
        try await db.write { db in
            try AuditLog.append(audit, in: db)
            _ = try run.delete(db)
        }
    }
}
