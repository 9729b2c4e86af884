import Foundation
import GRDB

/// `AuditAlertStore` on SQLite: `settings` keys `audit.alerts`, `audit.alerts.cursor`, `audit.digest.last`.
struct SQLiteAuditAlertStore: AuditAlertStore {
    let db: DatabasePool
    let notices: SQLiteNotices

    func alertSettings() async throws -> AuditAlertSettings {
        try await db.read { db in try AuditAlertKeys.decode(try Settings.get(AuditAlertKeys.settings, db)) }
    }

    func saveAlertSettings(_ s: AuditAlertSettings, audit: AuditEvent) async throws {
        try await db.write { db in
            try Settings.set(AuditAlertKeys.settings, try AuditAlertKeys.encode(s), db)
            // Alerts begin with the records after this one.
            if try Settings.get(AuditAlertKeys.cursor, db) == nil {
                try Settings.set(AuditAlertKeys.cursor, String(try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM audit") ?? 0), db)
            }
            try AuditLog.append(audit, in: db)
        }
    }

    func raiseAlerts(limit: Int, make: @Sendable ([AuditEntry], [String]) -> [Notice]) async throws -> Int {
        try await db.write { [notices] db in
            let newest = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM audit") ?? 0
            guard let cursor = try Settings.get(AuditAlertKeys.cursor, db).flatMap(Int64.init) else {
                try Settings.set(AuditAlertKeys.cursor, String(newest), db)
                return 0
            }
            let rows = try AuditEntry.fetchAll(db, sql: "SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?", arguments: [cursor, limit])
            guard let last = rows.last else { return 0 }
            let supers = try String.fetchAll(db, sql: "SELECT id FROM users WHERE superAdmin = 1")
            try notices.queue(make(rows, supers), db)
            try Settings.set(AuditAlertKeys.cursor, String(last.id), db)
            return rows.count
        }
    }

    func operationCounts(since: Date) async throws -> [String: Int] {
        try await db.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT operation, COUNT(*) AS n FROM audit WHERE at >= ? GROUP BY operation",
                arguments: [since.timeIntervalSince1970])
            { out[row["operation"]] = row["n"] }
            return out
        }
    }

    func lastDigest() async throws -> Date? {
        try await db.read { db in try Settings.get(AuditAlertKeys.digest, db).flatMap(Double.init).map(Date.init(timeIntervalSince1970:)) }
    }

    func sendDigest(_ facts: NotificationFacts, at: Date, previous: Date?) async throws -> Bool {
        try await db.write { [notices] db in
            guard try Settings.get(AuditAlertKeys.digest, db) == previous.map({ String($0.timeIntervalSince1970) }) else { return false }
            let supers = try String.fetchAll(db, sql: "SELECT id FROM users WHERE superAdmin = 1")
            try notices.queue(Notice(facts, users: supers), db)
            try Settings.set(AuditAlertKeys.digest, String(at.timeIntervalSince1970), db)
            return true
        }
    }
}

/// The settings keys and their JSON, shared by both stores.
enum AuditAlertKeys {
    static let settings = "audit.alerts"
    static let cursor = "audit.alerts.cursor"
    static let digest = "audit.digest.last"

    static func decode(_ text: String?) throws -> AuditAlertSettings {
        guard let text else { return AuditAlertSettings() }
        return try JSONDecoder().decode(AuditAlertSettings.self, from: Data(text.utf8))
    }

    static func encode(_ s: AuditAlertSettings) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return String(decoding: try e.encode(s), as: UTF8.self)
    }
}
