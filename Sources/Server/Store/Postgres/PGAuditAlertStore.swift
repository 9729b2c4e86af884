import Foundation

/// `AuditAlertStore` on PostgreSQL: the same `settings` keys. The cursor moves under the writer
/// lock, so each record raises its alert once whichever node looks.
struct PGAuditAlertStore: AuditAlertStore {
    let db: PGDatabase
    let log: PGAuditLog
    let notices: PGNotices

    func alertSettings() async throws -> AuditAlertSettings {
        try await db.read { c in try AuditAlertKeys.decode(try await PGCatalog.setting(AuditAlertKeys.settings, c)) }
    }

    func saveAlertSettings(_ s: AuditAlertSettings, audit: AuditEvent) async throws {
        try await db.write { [log] c in
            try await PGCatalog.set(AuditAlertKeys.settings, try AuditAlertKeys.encode(s), c)
            if try await PGCatalog.setting(AuditAlertKeys.cursor, c) == nil {
                try await PGCatalog.set(AuditAlertKeys.cursor, String(try await c.scalar(Int64.self, "SELECT MAX(id) FROM audit") ?? 0), c)
            }
            try await log.append(audit, c)
        }
    }

    func raiseAlerts(limit: Int, make: @Sendable ([AuditEntry], [String]) -> [Notice]) async throws -> Int {
        try await db.write { [notices] c in
            let newest = try await c.scalar(Int64.self, "SELECT MAX(id) FROM audit") ?? 0
            guard let cursor = try await PGCatalog.setting(AuditAlertKeys.cursor, c).flatMap(Int64.init) else {
                try await PGCatalog.set(AuditAlertKeys.cursor, String(newest), c)
                return 0
            }
            let rows = try await c.all(AuditEntry.self, "SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?", [cursor, limit])
            guard let last = rows.last else { return 0 }
            let supers = try await c.column(String.self, "SELECT id FROM users WHERE superAdmin = 1")
            try await notices.queue(make(rows, supers), c)
            try await PGCatalog.set(AuditAlertKeys.cursor, String(last.id), c)
            return rows.count
        }
    }

    func operationCounts(since: Date) async throws -> [String: Int] {
        try await db.read { c in
            var out: [String: Int] = [:]
            for row in try await c.rows("SELECT operation, COUNT(*) AS n FROM audit WHERE at >= ? GROUP BY operation", [since.timeIntervalSince1970]) {
                out[try row["operation", as: String.self]] = try row["n", as: Int.self]
            }
            return out
        }
    }

    func lastDigest() async throws -> Date? {
        try await db.read { c in try await PGCatalog.setting(AuditAlertKeys.digest, c).flatMap(Double.init).map(Date.init(timeIntervalSince1970:)) }
    }

    func sendDigest(_ facts: NotificationFacts, at: Date, previous: Date?) async throws -> Bool {
        try await db.write { [notices] c in
            guard try await PGCatalog.setting(AuditAlertKeys.digest, c) == previous.map({ String($0.timeIntervalSince1970) }) else { return false }
            let supers = try await c.column(String.self, "SELECT id FROM users WHERE superAdmin = 1")
            try await notices.queue(Notice(facts, users: supers), c)
            try await PGCatalog.set(AuditAlertKeys.digest, String(at.timeIntervalSince1970), c)
            return true
        }
    }
}
