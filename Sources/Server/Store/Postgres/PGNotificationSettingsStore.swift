import Foundation
import Notify
import Shared

/// `NotificationSettingsStore` on PostgreSQL: the channels in `settings` (the SMTP password sealed
/// in `vaultMeta`), rules in `notificationRules`, templates in `notificationTemplates`.
struct PGNotificationSettingsStore: NotificationSettingsStore {
    typealias SQLite = SQLiteNotificationSettingsStore
    let db: PGDatabase
    let log: PGAuditLog
    let vault: Vault

    func channels() async throws -> NotificationChannels {
        try await db.read { [vault] c in try await Self.channels(vault, c) }
    }

    func saveChannels(_ body: NotificationSettingsBody, audit: AuditEvent) async throws {
        try await db.write { [vault] c in
            let previous = try await Self.body(c)?.smtp
            // A stored password is for one server and one user: it never follows a new host or user name.
            let moved = previous?.host.lowercased() != body.smtp?.host.lowercased() || previous?.username != body.smtp?.username
            var stored = body
            stored.smtp?.password = nil
            try await PGCatalog.set(SQLite.key, String(decoding: try JSONEncoder.api.encode(stored), as: UTF8.self), c)
            if let password = body.smtp?.password {
                try await c.execute("INSERT INTO vaultMeta(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [SQLite.passwordKey, try vault.seal(password, identity: SQLite.passwordIdentity)])
            } else if body.smtp?.username == nil || moved {
                try await c.execute("DELETE FROM vaultMeta WHERE key = ?", [SQLite.passwordKey])
            }
            try await log.append(audit, c)
        }
    }

    func events() async throws -> [EventSettings] {
        try await db.read { c in
            var out: [EventSettings] = []
            for e in NotificationEvent.allCases {
                out.append(EventSettings(event: e.rawValue, rule: try await PGNotices.rule(e, c), template: try await PGNotices.template(e, c),
                    customTemplate: try await c.scalar(Int.self, "SELECT 1 FROM notificationTemplates WHERE event = ?", [e.rawValue]) != nil))
            }
            return out
        }
    }

    func saveRule(_ rule: NotificationRule, for event: NotificationEvent, at: Date, by user: String, audit: AuditEvent) async throws {
        try await db.write { c in
            try await c.execute("""
                INSERT INTO notificationRules(event, json, savedAt, savedBy) VALUES (?, ?, ?, ?)
                ON CONFLICT (event) DO UPDATE SET json = excluded.json, savedAt = excluded.savedAt, savedBy = excluded.savedBy
                """, [event.rawValue, String(decoding: try JSONEncoder.api.encode(rule), as: UTF8.self), at, user])
            try await log.append(audit, c)
        }
    }

    func saveTemplate(_ template: NotificationTemplate?, for event: NotificationEvent, at: Date, by user: String, audit: AuditEvent) async throws {
        try await db.write { c in
            if let template {
                try await c.execute("""
                    INSERT INTO notificationTemplates(event, subject, body, savedAt, savedBy) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (event) DO UPDATE SET subject = excluded.subject, body = excluded.body, savedAt = excluded.savedAt, savedBy = excluded.savedBy
                    """, [event.rawValue, template.subject, template.body, at, user])
            } else {
                try await c.execute("DELETE FROM notificationTemplates WHERE event = ?", [event.rawValue])
            }
            try await log.append(audit, c)
        }
    }

    func scope(of p: Principal) async throws -> ListScope {
        try await db.read { c in try await ListScope.of(p, c) }
    }

    static func body(_ c: PGConnection) async throws -> NotificationSettingsBody? {
        try await PGCatalog.setting(SQLite.key, c).flatMap { try? JSONDecoder.api.decode(NotificationSettingsBody.self, from: Data($0.utf8)) }
    }

    /// The channels in the caller's transaction (a notice composed inside a change reads them).
    static func channels(_ vault: Vault, _ c: PGConnection) async throws -> NotificationChannels {
        let body = try await body(c)
        let sealed = body?.smtp == nil ? nil : try await c.scalar(Data.self, "SELECT value FROM vaultMeta WHERE key = ?", [SQLite.passwordKey])
        return NotificationChannels(body, password: try sealed.map { try vault.openSecret($0, identity: SQLite.passwordIdentity) })
    }
}
