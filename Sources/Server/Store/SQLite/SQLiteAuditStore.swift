import Foundation
import GRDB

/// `AuditStore` on SQLite: table `audit` through `AuditLog` (the chain and its head).
struct SQLiteAuditStore: AuditStore {
    let db: DatabasePool
    let appends: GroupCommit<AuditedUnit>

    func append(_ event: AuditEvent) async throws { try await appends.append(event) }

    func entries(_ query: AuditLog.Query, visibleTo p: Principal) async throws -> [AuditEntry] {
        try await db.read { db in
            var q = query
            q.scope = try ListScope.of(p, db)
            return try AuditLog.fetch(q, in: db)
        }
    }
}
