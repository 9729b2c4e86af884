import Foundation
import GRDB
import Notify
import Shared

/// `NotificationSettingsStore` on SQLite: the channels in `settings` (the SMTP password sealed in
/// `vaultMeta`), rules in `notificationRules`, templates in `notificationTemplates`.
struct SQLiteNotificationSettingsStore: NotificationSettingsStore {
    static let key = "notify.settings"
    static let passwordKey = "smtpPassword"
    static let passwordIdentity = "custody.notify.smtp-password.v1"

    let db: DatabasePool
    let vault: Vault

    func channels() async throws -> NotificationChannels {
        try await db.read { [vault] db in try Self.channels(vault, db) }
    }

    func saveChannels(_ body: NotificationSettingsBody, audit: AuditEvent) async throws {
        try await db.write { [vault] db in
            let previous = try Self.body(db)?.smtp
            // A stored password is for one server and one user: it never follows a new host or user name.
            let moved = previous?.host.lowercased() != body.smtp?.host.lowercased() || previous?.username != body.smtp?.username
            var stored = body
            stored.smtp?.password = nil
            try Settings.set(Self.key, String(decoding: try JSONEncoder.api.encode(stored), as: UTF8.self), db)
            if let password = body.smtp?.password {
                try db.execute(sql: "INSERT INTO vaultMeta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    arguments: [Self.passwordKey, try vault.seal(password, identity: Self.passwordIdentity)])
            } else if body.smtp?.username == nil || moved {
                try db.execute(sql: "DELETE FROM vaultMeta WHERE key = ?", arguments: [Self.passwordKey])
            }
            try AuditLog.append(audit, in: db)
        }
    }

    func events() async throws -> [EventSettings] {
        try await db.read { db in
            try NotificationEvent.allCases.map { e in
                EventSettings(event: e.rawValue, rule: try SQLiteNotices.rule(e, db), template: try SQLiteNotices.template(e, db),
                    customTemplate: try Bool.fetchOne(db, sql: "SELECT 1 FROM notificationTemplates WHERE event = ?", arguments: [e.rawValue]) ?? false)
            }
        }
    }

    func saveRule(_ rule: NotificationRule, for event: NotificationEvent, at: Date, by user: String, audit: AuditEvent) async throws {
        try await db.write { db in
            try db.execute(sql: """
                INSERT INTO notificationRules(event, json, savedAt, savedBy) VALUES (?, ?, ?, ?)
                ON CONFLICT(event) DO UPDATE SET json = excluded.json, savedAt = excluded.savedAt, savedBy = excluded.savedBy
                """, arguments: [event.rawValue, String(decoding: try JSONEncoder.api.encode(rule), as: UTF8.self), at.seconds, user])
            try AuditLog.append(audit, in: db)
        }
    }

    func saveTemplate(_ template: NotificationTemplate?, for event: NotificationEvent, at: Date, by user: String, audit: AuditEvent) async throws {
        try await db.write { db in
            if let template {
                try db.execute(sql: """
                    INSERT INTO notificationTemplates(event, subject, body, savedAt, savedBy) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(event) DO UPDATE SET subject = excluded.subject, body = excluded.body, savedAt = excluded.savedAt, savedBy = excluded.savedBy
                    """, arguments: [event.rawValue, template.subject, template.body, at.seconds, user])
            } else {
                try db.execute(sql: "DELETE FROM notificationTemplates WHERE event = ?", arguments: [event.rawValue])
            }
            try AuditLog.append(audit, in: db)
        }
    }

    func scope(of p: Principal) async throws -> ListScope {
        try await db.read { db in try ListScope.of(p, db) }
    }

    static func body(_ db: Database) throws -> NotificationSettingsBody? {
        try Settings.get(key, db).flatMap { try? JSONDecoder.api.decode(NotificationSettingsBody.self, from: Data($0.utf8)) }
    }

    /// The channels in the caller's transaction (a notice composed inside a change reads them).
    static func channels(_ vault: Vault, _ db: Database) throws -> NotificationChannels {
        let body = try body(db)
        let sealed = body?.smtp == nil ? nil : try Data.fetchOne(db, sql: "SELECT value FROM vaultMeta WHERE key = ?", arguments: [passwordKey])
        return NotificationChannels(body, password: try sealed.map { try vault.openSecret($0, identity: passwordIdentity) })
    }
}
