import Foundation
import Notify
import Shared

/// The notification settings (channels, each event's rule and template), a test message, and the
/// outbox as a caller may see it. Administrators change settings; lists follow `ListScope`.
struct NotificationSettingsService: Sendable {
    let store: any NotificationSettingsStore
    let outbox: any OutboxStore
    let audit: AuditTrail
    let authorizer: Authorizer
    let now: @Sendable () -> Date

    func settings(by p: Principal) async throws -> NotificationChannels.View {
        try authorizer.check(p, .manageSettings)
        return try await store.channels().view
    }

    func save(_ b: NotificationSettingsBody, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        let smtp = b.smtp.map { "smtp \($0.host):\($0.port ?? 0) \(($0.security ?? .starttls).rawValue)" + ($0.password != nil ? " (password changed)" : "") }
        let syslog = b.syslog.map { "syslog \($0.host):\($0.port ?? 514) \(($0.transport ?? .udp).rawValue)" }
        try await store.saveChannels(b, audit: AuditEvent(user: p.username, ip: ip, operation: "save_settings",
            message: "notifications: " + [smtp ?? "no smtp", syslog ?? "no syslog"].joined(separator: ", ")))
    }

    /// Sends one test email or syslog message now; says what happened (audited).
    func test(email: String?, by p: Principal, ip: String) async throws -> (channel: OutboxChannel, outcome: String) {
        try authorizer.check(p, .manageSettings)
        let channels = try await store.channels()
        let n = OutboxEntry(id: newID(), event: "test", channel: email != nil ? .email : .syslog, recipient: email ?? "syslog",
            subject: "Custody test message", body: "A test message from \(channels.serverName), sent by \(p.username).", fields: [["user", p.username]],
            accountIds: [], createdAt: now(), nextAttemptAt: now())
        var outcome = "sent"
        do throws(NotifyError) { try await NotificationDelivery.deliver(n, channels) } catch { outcome = error.description }
        try await audit.append(AuditEvent(user: p.username, ip: ip, operation: "notification_test", outcome: outcome == "sent" ? "success" : "failure",
            message: "\(n.channel.rawValue) to \(n.recipient): \(outcome)"))
        return (n.channel, outcome)
    }

    func events(by p: Principal) async throws -> [EventSettings] {
        try authorizer.check(p, .manageSettings)
        return try await store.events()
    }

    func saveRule(_ rule: NotificationRule, for e: NotificationEvent, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        try await store.saveRule(rule, for: e, at: now(), by: p.username, audit: AuditEvent(user: p.username, ip: ip,
            operation: "save_notification_rule", message: "\(e.rawValue): email \(rule.email ?? true), syslog \(rule.syslog ?? true)"))
    }

    func template(_ e: NotificationEvent, by p: Principal) async throws -> NotificationTemplate {
        try authorizer.check(p, .manageSettings)
        return try await store.events().first { $0.event == e.rawValue }?.template ?? e.defaultTemplate
    }

    /// Saves the event's template; nil goes back to the default.
    func saveTemplate(_ t: NotificationTemplate?, for e: NotificationEvent, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        try await store.saveTemplate(t, for: e, at: now(), by: p.username, audit: AuditEvent(user: p.username, ip: ip,
            operation: t == nil ? "reset_notification_template" : "save_notification_template", message: e.rawValue))
    }

    /// Queued, sent and failed notifications about what the caller can see, newest first.
    func list(state: OutboxState?, limit: Int, by p: Principal) async throws -> [NotificationView] {
        try authorizer.check(p, .readAudit)
        let scope = try await store.scope(of: p)
        var rows: [NotificationView] = []
        var offset = 0
        // Pages of the newest entries, keeping those whose every account the caller sees.
        while rows.count < limit {
            let page = try await outbox.page(state: state, limit: scope.everything ? limit : 500, offset: offset)
            for e in page where rows.count < limit && scope.seesAll(e.accountIds) {
                rows.append(NotificationView(id: e.id, event: e.event, channel: e.channel.rawValue, recipient: e.recipient,
                    state: e.state.rawValue, subject: e.subject.isEmpty ? nil : e.subject, attempts: e.attempts, createdAt: e.createdAt,
                    sentAt: e.sentAt, lastError: e.lastError, accountIds: e.accountIds))
            }
            if scope.everything || page.count < 500 { break }
            offset += page.count
        }
        return rows
    }
}
