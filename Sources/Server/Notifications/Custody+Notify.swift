import Foundation
import GRDB

/// Raising a notification: in the transaction of the event, one outbox row per email address and
/// one per syslog message, delivered later by `NotificationSender`. Nothing here touches the network,
/// so a notification never blocks or fails the change that raised it.
extension Custody {
    func notificationRule(_ event: NotificationEvent, _ db: Database) throws -> NotificationRule {
        try String.fetchOne(db, sql: "SELECT json FROM notificationRules WHERE event = ?", arguments: [event.rawValue])
            .flatMap { try? JSONDecoder.api.decode(NotificationRule.self, from: Data($0.utf8)) } ?? .standard
    }

    func notificationTemplate(_ event: NotificationEvent, _ db: Database) throws -> NotificationTemplate {
        try Row.fetchOne(db, sql: "SELECT subject, body FROM notificationTemplates WHERE event = ?", arguments: [event.rawValue])
            .map { NotificationTemplate(subject: $0["subject"], body: $0["body"]) } ?? event.defaultTemplate
    }

    /// Queues `facts` for the event's channels. `accounts` decide who has access; `extra` adds
    /// the recipients of a rotation schedule or the approvers of a listener.
    func notify(_ facts: NotificationFacts, accounts: [String] = [], extra: RotationConfig.Recipients? = nil,
        users extraUsers: [String] = [], _ db: Database) throws
    {
        let channels = try NotificationChannels.load(vault, db)
        let rule = try notificationRule(facts.event, db)
        let at = now()
        var values: [String: String] = [
            "event": facts.event.rawValue, "time": Self.stamp(at), "user": facts.user, "ip": facts.ip, "status": facts.status,
            "server": channels.serverName, "accessURL": channels.accessURL ?? "",
        ]
        for (k, v) in [("resource", facts.resource), ("account", facts.account), ("group", facts.group), ("reason", facts.reason),
            ("message", facts.message), ("report", facts.report), ("run", facts.run), ("listener", facts.listener),
            ("runAt", facts.runAt.map(Self.stamp))]
        { values[k] = v ?? "" }
        var queued = 0
        if channels.syslog != nil, rule.syslog ?? true {
            let target = [facts.resource ?? facts.group ?? facts.listener ?? "-", facts.account ?? "-", facts.reason ?? facts.message ?? "-"]
            let text = "\(facts.user):\(facts.ip) \(facts.event.rawValue) \(Self.stamp(at)) \(facts.status) \(channels.serverName) "
                + target.joined(separator: ":")
            var fields = [["event", facts.event.rawValue], ["user", facts.user], ["status", facts.status]]
            for (k, v) in [("resource", facts.resource), ("account", facts.account), ("group", facts.group), ("listener", facts.listener)] {
                if let v { fields.append([k, v]) }
            }
            try insertNotification(facts.event, channel: .syslog, recipient: "syslog", subject: "", body: text, fields: fields,
                about: accounts, at, db)
            queued += 1
        }
        if channels.smtp != nil, rule.email ?? true {
            let message = try notificationTemplate(facts.event, db).render(values)
            var addresses = try emails(rule.recipients ?? NotificationRule.standard.recipients, accounts: accounts, db)
            if let extra { addresses.formUnion(try emails(extra, accounts: accounts, db)) }
            addresses.formUnion(try String.fetchAll(db, sql: """
                SELECT email FROM users WHERE id IN (\(databaseQuestionMarks(count: max(extraUsers.count, 1)))) AND email IS NOT NULL AND email != ''
                """, arguments: StatementArguments(extraUsers.isEmpty ? [""] : extraUsers)))
            for address in addresses.sorted() {
                try insertNotification(facts.event, channel: .email, recipient: address, subject: message.subject, body: message.body,
                    fields: [], about: accounts, at, db)
                queued += 1
            }
        }
        if queued > 0 { db.afterNextTransaction { _ in notifySignal.poke() } }
    }

    func insertNotification(_ event: NotificationEvent, channel: OutboxChannel, recipient: String, subject: String, body: String,
        fields: [[String]], about accounts: [String], _ at: Date, _ db: Database) throws
    {
        try SQLiteOutboxStore.insert(OutboxEntry(id: newID(), event: event.rawValue, channel: channel, recipient: recipient, subject: subject,
            body: body, fields: fields, accountIds: accounts, createdAt: at, nextAttemptAt: at), db)
    }

    /// The addresses of `r`, worked out now: users with access to any of `accounts` (owners and
    /// share holders, not super-administrators by their flag alone), named users and user groups, and addresses.
    func emails(_ r: RotationConfig.Recipients?, accounts: [String], _ db: Database) throws -> Set<String> {
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

    static func stamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: d)
    }
}
