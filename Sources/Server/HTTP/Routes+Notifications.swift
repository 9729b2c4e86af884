import Foundation
import GRDB
import Hummingbird
import Notify
import Shared

/// The body of `POST /notifications/test`: send one test email, or one syslog message, now.
struct NotificationTestBody: APIBody {
    var email: String?
    var syslog: Bool?
    static let fields = ["email", "syslog"]
    func validate() throws {
        if let e = email { try NotificationSettingsBody.address(e, "email") }
        if email == nil && syslog != true { throw APIError.badRequest("missing_field", "give email or syslog: true") }
    }
}

/// One queued, sent or failed notification, without its text.
struct NotificationView: Codable, Sendable {
    var id, event, channel, recipient, state: String
    var subject: String?
    var attempts: Int
    var createdAt: Date
    var sentAt: Date?
    var lastError: String?
    /// The accounts the notification is about.
    var accountIds: [String] = []
}

extension Routes {
    func event(_ ctx: AppContext) throws -> NotificationEvent {
        let name = try ctx.param("event")
        guard let e = NotificationEvent(rawValue: name) else {
            throw APIError.notFound("event '\(name)' (known: \(NotificationEvent.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return e
    }

    func notifications(_ t: RouteTable) {
        t.add(.get, "/settings/notifications", "The mail server and syslog receiver (administrators; the SMTP password shows as passwordSet)") { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .manageSettings)
            return try Reply.json(try await custody.store.read { db in try NotificationChannels.view(custody.vault, db) })
        }
        t.add(.put, "/settings/notifications", "Set the mail server and syslog receiver (administrators)", body: NotificationSettingsBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(NotificationSettingsBody.self, limit: custody.config.maxBodyBytes)
            try await custody.store.write { db in
                try NotificationChannels.save(b, custody.vault, db)
                let smtp = b.smtp.map { "smtp \($0.host):\($0.port ?? 0) \(($0.security ?? .starttls).rawValue)" + ($0.password != nil ? " (password changed)" : "") }
                let syslog = b.syslog.map { "syslog \($0.host):\($0.port ?? 514) \(($0.transport ?? .udp).rawValue)" }
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "save_settings",
                    message: "notifications: " + ([smtp ?? "no smtp", syslog ?? "no syslog"]).joined(separator: ", ")), in: db)
            }
            return Reply.noContent()
        }
        t.add(.post, "/notifications/test", "Send a test email or syslog message now and report the outcome (administrators)", body: NotificationTestBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(NotificationTestBody.self, limit: custody.config.maxBodyBytes)
            let channels = try await custody.store.read { db in try NotificationChannels.load(custody.vault, db) }
            let n = OutboxEntry(id: newID(), event: "test", channel: b.email != nil ? .email : .syslog, recipient: b.email ?? "syslog",
                subject: "Custody test message", body: "A test message from \(channels.serverName), sent by \(p.username).", fields: [["user", p.username]],
                accountIds: [], createdAt: custody.now(), nextAttemptAt: custody.now())
            var outcome = "sent"
            do throws(NotifyError) { try await NotificationDelivery.deliver(n, channels) } catch { outcome = error.description }
            try await custody.auditTrail.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "notification_test", outcome: outcome == "sent" ? "success" : "failure",
                message: "\(n.channel.rawValue) to \(n.recipient): \(outcome)"))
            return try Reply.json(["channel": n.channel.rawValue, "outcome": outcome, "delivered": outcome == "sent" ? "true" : "false"])
        }
        t.add(.get, "/notifications/events", "Each event with its channels, recipients and template (administrators)") { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .manageSettings)
            struct Out: Codable { var event: String; var rule: NotificationRule; var template: NotificationTemplate; var customTemplate: Bool }
            let out = try await custody.store.read { db in
                try NotificationEvent.allCases.map { e in
                    Out(event: e.rawValue, rule: try custody.notificationRule(e, db), template: try custody.notificationTemplate(e, db),
                        customTemplate: try Bool.fetchOne(db, sql: "SELECT 1 FROM notificationTemplates WHERE event = ?", arguments: [e.rawValue]) ?? false)
                }
            }
            return try Reply.json(out)
        }
        t.add(.put, "/notifications/events/:event", "Set an event's channels and recipients (administrators)", body: NotificationRule.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let e = try event(ctx)
            let b = try await req.decodeStrict(NotificationRule.self, limit: custody.config.maxBodyBytes)
            try await custody.store.write { db in
                try db.execute(sql: """
                    INSERT INTO notificationRules(event, json, savedAt, savedBy) VALUES (?, ?, ?, ?)
                    ON CONFLICT(event) DO UPDATE SET json = excluded.json, savedAt = excluded.savedAt, savedBy = excluded.savedBy
                    """, arguments: [e.rawValue, String(decoding: try JSONEncoder.api.encode(b), as: UTF8.self), custody.now().seconds, p.username])
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "save_notification_rule",
                    message: "\(e.rawValue): email \(b.email ?? true), syslog \(b.syslog ?? true)"), in: db)
            }
            return Reply.noContent()
        }
        t.add(.get, "/notifications/templates/:event", "An event's template (administrators)") { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .manageSettings)
            let e = try event(ctx)
            return try Reply.json(try await custody.store.read { db in try custody.notificationTemplate(e, db) })
        }
        t.add(.put, "/notifications/templates/:event", "Replace an event's template; {{placeholders}} are checked (administrators)", body: NotificationTemplate.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let e = try event(ctx)
            let b = try await req.decodeStrict(NotificationTemplate.self, limit: custody.config.maxBodyBytes)
            try await custody.store.write { db in
                try db.execute(sql: """
                    INSERT INTO notificationTemplates(event, subject, body, savedAt, savedBy) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(event) DO UPDATE SET subject = excluded.subject, body = excluded.body, savedAt = excluded.savedAt, savedBy = excluded.savedBy
                    """, arguments: [e.rawValue, b.subject, b.body, custody.now().seconds, p.username])
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "save_notification_template", message: e.rawValue), in: db)
            }
            return Reply.noContent()
        }
        t.add(.delete, "/notifications/templates/:event", "Go back to an event's default template (administrators)") { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let e = try event(ctx)
            try await custody.store.write { db in
                try db.execute(sql: "DELETE FROM notificationTemplates WHERE event = ?", arguments: [e.rawValue])
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "reset_notification_template", message: e.rawValue), in: db)
            }
            return Reply.noContent()
        }
        t.add(.get, "/notifications", "Queued, sent and failed notifications about what you can see, newest first (?state=pending|sent|failed&limit=N)") { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .readAudit)
            let state = req.uri.queryParameters.get("state")
            if let state, !["pending", "sent", "failed"].contains(state) {
                throw APIError.badRequest("invalid_query", "state must be pending, sent or failed")
            }
            let limit = min(max(Int(req.uri.queryParameters.get("limit") ?? "") ?? 100, 1), 1000)
            let scope = try await custody.store.read { db in try ListScope.of(p, db) }
            var rows: [NotificationView] = []
            var offset = 0
            // Pages of the newest entries, keeping those whose every account the caller sees.
            while rows.count < limit {
                let page = try await custody.store.outbox.page(state: state.flatMap(OutboxState.init(rawValue:)),
                    limit: scope.everything ? limit : 500, offset: offset)
                for e in page where rows.count < limit && scope.seesAll(e.accountIds) {
                    rows.append(NotificationView(id: e.id, event: e.event, channel: e.channel.rawValue, recipient: e.recipient,
                        state: e.state.rawValue, subject: e.subject.isEmpty ? nil : e.subject, attempts: e.attempts, createdAt: e.createdAt,
                        sentAt: e.sentAt, lastError: e.lastError, accountIds: e.accountIds))
                }
                if scope.everything || page.count < 500 { break }
                offset += page.count
            }
            return try Reply.json(rows)
        }
    }
}
