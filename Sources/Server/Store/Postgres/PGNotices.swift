import Foundation

/// `SQLiteNotices` on PostgreSQL: a `Notice` becomes outbox rows inside the transaction of the
/// change it reports, and the sender is woken once that transaction commits.
struct PGNotices: Sendable {
    let vault: Vault
    let now: @Sendable () -> Date
    let queued: @Sendable () -> Void

    func queue(_ notices: [Notice], _ c: PGConnection) async throws {
        for n in notices { try await queue(n, c) }
    }

    func queue(_ notice: Notice, _ c: PGConnection) async throws {
        let at = now()
        if let key = notice.onceKey {
            if let last = try await c.scalar(Double.self, "SELECT at FROM notificationMarks WHERE key = ?", [key]), at.seconds - last < notice.onceSeconds {
                return
            }
            try await Self.mark(key, at.seconds, c)
        }
        var facts = notice.facts
        if let about = notice.about {
            facts.resource = try await c.scalar(String.self, "SELECT name FROM resources WHERE id = ?", [about.resourceId]) ?? about.resourceId
            facts.account = try await c.scalar(String.self, "SELECT loginName FROM accounts WHERE id = ?", [about.accountId]) ?? about.accountId
        }
        let channels = try await PGNotificationSettingsStore.channels(vault, c)
        let rule = try await Self.rule(facts.event, c)
        var count = 0
        if channels.syslog != nil, rule.syslog ?? true {
            let text = NoticeText.syslog(facts, at: at, server: channels.serverName)
            try await insert(facts.event, .syslog, "syslog", subject: "", body: text, fields: NoticeText.syslogFields(facts), notice.accounts, at, c)
            count += 1
        }
        if channels.smtp != nil, rule.email ?? true {
            let message = try await Self.template(facts.event, c).render(NoticeText.values(facts, at: at, channels: channels))
            var addresses = try await emails(rule.recipients ?? NotificationRule.standard.recipients, accounts: notice.accounts, c)
            if let extra = notice.extra { addresses.formUnion(try await emails(extra, accounts: notice.accounts, c)) }
            if !notice.users.isEmpty {
                addresses.formUnion(try await c.column(String.self, """
                    SELECT email FROM users WHERE id IN (\(PGStatement.marks(notice.users.count))) AND email IS NOT NULL AND email != ''
                    """, notice.users))
            }
            for address in addresses.sorted() {
                try await insert(facts.event, .email, address, subject: message.subject, body: message.body, fields: [], notice.accounts, at, c)
                count += 1
            }
        }
        if count > 0 { c.afterCommit(queued) }
    }

    static func clearMark(_ key: String, _ c: PGConnection) async throws {
        try await c.execute("DELETE FROM notificationMarks WHERE key = ?", [key])
    }

    static func mark(_ key: String, _ value: Double, _ c: PGConnection) async throws {
        try await c.execute("INSERT INTO notificationMarks(key, at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET at = excluded.at", [key, value])
    }

    static func rule(_ event: NotificationEvent, _ c: PGConnection) async throws -> NotificationRule {
        try await c.scalar(String.self, "SELECT json FROM notificationRules WHERE event = ?", [event.rawValue])
            .flatMap { try? JSONDecoder.api.decode(NotificationRule.self, from: Data($0.utf8)) } ?? .standard
    }

    static func template(_ event: NotificationEvent, _ c: PGConnection) async throws -> NotificationTemplate {
        try await c.row("SELECT subject, body FROM notificationTemplates WHERE event = ?", [event.rawValue])
            .map { NotificationTemplate(subject: try $0["subject"], body: try $0["body"]) } ?? event.defaultTemplate
    }

    private func insert(_ event: NotificationEvent, _ channel: OutboxChannel, _ recipient: String, subject: String, body: String,
        fields: [[String]], _ accounts: [String], _ at: Date, _ c: PGConnection) async throws
    {
        try await PGOutboxStore.insert(OutboxEntry(id: newID(), event: event.rawValue, channel: channel, recipient: recipient, subject: subject,
            body: body, fields: fields, accountIds: accounts, createdAt: at, nextAttemptAt: at), c)
    }

    /// The addresses of `r`, worked out now (`SQLiteNotices.emails`).
    private func emails(_ r: RotationConfig.Recipients?, accounts: [String], _ c: PGConnection) async throws -> Set<String> {
        guard let r else { return [] }
        var out = Set(r.emails ?? [])
        let users = try await c.all(UserRecord.self, "SELECT * FROM users").filter { !($0.email ?? "").isEmpty }
        if r.usersWithAccess == true, !accounts.isEmpty {
            var pairs: [(AccountRecord, ResourceRecord)] = []
            for id in accounts {
                guard let a = try await PGQueries.account(id, c), let res = try await PGQueries.resource(a.resourceId, c) else { continue }
                pairs.append((a, res))
            }
            for u in users {
                let p = Principal(userID: u.id, username: u.username, role: u.role, superAdmin: false, mustChangePassword: false, tokenID: "")
                for (a, res) in pairs where try await PGAccess.onAccount(a, resource: res, p, c) != nil {
                    out.insert(u.email!)
                    break
                }
            }
        }
        let named = Set(r.users ?? [])
        out.formUnion(users.filter { named.contains($0.username) }.compactMap(\.email))
        for g in r.userGroups ?? [] {
            out.formUnion(try await c.column(String.self, """
                SELECT u.email FROM users u JOIN userGroupMembers m ON m.userId = u.id JOIN userGroups g ON g.id = m.groupId
                WHERE g.name = ? AND u.email IS NOT NULL AND u.email != ''
                """, [g]))
        }
        return out
    }
}
