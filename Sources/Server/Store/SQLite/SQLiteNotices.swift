import Foundation
import GRDB

/// Queues `Notice`s inside the transaction of the change they report: one outbox row per email
/// address and one per syslog message. Nothing here touches the network, so a notice never blocks
/// or fails the change that raised it.
struct SQLiteNotices: Sendable {
    let vault: Vault
    let now: @Sendable () -> Date
    /// Wakes the sender once the transaction that queued something has committed.
    let queued: @Sendable () -> Void

    func queue(_ notices: [Notice], _ db: Database) throws {
        for n in notices { try queue(n, db) }
    }

    func queue(_ notice: Notice, _ db: Database) throws {
        let at = now()
        if let key = notice.onceKey {
            if let last = try Double.fetchOne(db, sql: "SELECT at FROM notificationMarks WHERE key = ?", arguments: [key]),
                at.seconds - last < notice.onceSeconds
            { return }
            try Self.mark(key, at.seconds, db)
        }
        var facts = notice.facts
        if let about = notice.about {
            facts.resource = try String.fetchOne(db, sql: "SELECT name FROM resources WHERE id = ?", arguments: [about.resourceId]) ?? about.resourceId
            facts.account = try String.fetchOne(db, sql: "SELECT loginName FROM accounts WHERE id = ?", arguments: [about.accountId]) ?? about.accountId
        }
        let channels = try SQLiteNotificationSettingsStore.channels(vault, db)
        let rule = try Self.rule(facts.event, db)
        var count = 0
        if channels.syslog != nil, rule.syslog ?? true {
            let text = NoticeText.syslog(facts, at: at, server: channels.serverName)
            try insert(facts.event, .syslog, "syslog", subject: "", body: text, fields: NoticeText.syslogFields(facts), notice.accounts, at, db)
            count += 1
        }
        if channels.smtp != nil, rule.email ?? true {
            let message = try Self.template(facts.event, db).render(NoticeText.values(facts, at: at, channels: channels))
            var addresses = try emails(rule.recipients ?? NotificationRule.standard.recipients, accounts: notice.accounts, db)
            if let extra = notice.extra { addresses.formUnion(try emails(extra, accounts: notice.accounts, db)) }
            if !notice.users.isEmpty {
                addresses.formUnion(try String.fetchAll(db, sql: """
                    SELECT email FROM users WHERE id IN (\(databaseQuestionMarks(count: notice.users.count))) AND email IS NOT NULL AND email != ''
                    """, arguments: StatementArguments(notice.users)))
            }
            for address in addresses.sorted() {
                try insert(facts.event, .email, address, subject: message.subject, body: message.body, fields: [], notice.accounts, at, db)
                count += 1
            }
        }
        if count > 0 { db.afterNextTransaction { [queued] _ in queued() } }
    }

    /// Forgets a `Notice.onceKey` (an account back in sync notifies again when it next goes out).
    static func clearMark(_ key: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM notificationMarks WHERE key = ?", arguments: [key])
    }

    static func mark(_ key: String, _ value: Double, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO notificationMarks(key, at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET at = excluded.at",
            arguments: [key, value])
    }

    static func rule(_ event: NotificationEvent, _ db: Database) throws -> NotificationRule {
        try String.fetchOne(db, sql: "SELECT json FROM notificationRules WHERE event = ?", arguments: [event.rawValue])
            .flatMap { try? JSONDecoder.api.decode(NotificationRule.self, from: Data($0.utf8)) } ?? .standard
    }

    static func template(_ event: NotificationEvent, _ db: Database) throws -> NotificationTemplate {
        try Row.fetchOne(db, sql: "SELECT subject, body FROM notificationTemplates WHERE event = ?", arguments: [event.rawValue])
            .map { NotificationTemplate(subject: $0["subject"], body: $0["body"]) } ?? event.defaultTemplate
    }

    private func insert(_ event: NotificationEvent, _ channel: OutboxChannel, _ recipient: String, subject: String, body: String,
        fields: [[String]], _ accounts: [String], _ at: Date, _ db: Database) throws
    {
        try SQLiteOutboxStore.insert(OutboxEntry(id: newID(), event: event.rawValue, channel: channel, recipient: recipient, subject: subject,
            body: body, fields: fields, accountIds: accounts, createdAt: at, nextAttemptAt: at), db)
    }

    /// The addresses of `r`, worked out now: users with access to any of `accounts` (owners and
    /// share holders, not super-administrators by their flag alone), named users and user groups, and addresses.
    private func emails(_ r: RotationConfig.Recipients?, accounts: [String], _ db: Database) throws -> Set<String> {
        guard let r else { return [] }
        var out = Set(r.emails ?? [])
        let users = try UserRecord.fetchAll(db).filter { !($0.email ?? "").isEmpty }
        if r.usersWithAccess == true, !accounts.isEmpty {
            let pairs = try accounts.compactMap { id -> (AccountRecord, ResourceRecord)? in
                guard let a = try AccountRecord.fetchOne(db, key: id), let res = try ResourceRecord.fetchOne(db, key: a.resourceId) else { return nil }
                return (a, res)
            }
            for u in users {
                let p = Principal(userID: u.id, username: u.username, role: u.role, superAdmin: false, mustChangePassword: false, tokenID: "")
                if try pairs.contains(where: { try Access.onAccount($0.0, resource: $0.1, p, db) != nil }) { out.insert(u.email!) }
            }
        }
        let named = Set(r.users ?? [])
        out.formUnion(users.filter { named.contains($0.username) }.compactMap(\.email))
        for g in r.userGroups ?? [] {
            out.formUnion(try String.fetchAll(db, sql: """
                SELECT u.email FROM users u JOIN userGroupMembers m ON m.userId = u.id JOIN userGroups g ON g.id = m.groupId
                WHERE g.name = ? AND u.email IS NOT NULL AND u.email != ''
                """, arguments: [g]))
        }
        return out
    }
}
