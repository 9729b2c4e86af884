import Foundation
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
        t.add(.get, "/settings/notifications", "The mail server and syslog receiver (administrators; the SMTP password shows as passwordSet)", response: .object(NotificationChannels.View.self)) { _, ctx in
            try Reply.json(try await custody.notificationSettings.settings(by: try ctx.caller()))
        }
        t.add(.put, "/settings/notifications", "Set the mail server and syslog receiver (administrators)", body: NotificationSettingsBody.self, response: .empty) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(NotificationSettingsBody.self, limit: custody.config.maxBodyBytes)
            try await custody.notificationSettings.save(b, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.post, "/notifications/test", "Send a test email or syslog message now and report the outcome (administrators)", body: NotificationTestBody.self, response: .object([String: String].self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(NotificationTestBody.self, limit: custody.config.maxBodyBytes)
            let (channel, outcome) = try await custody.notificationSettings.test(email: b.email, by: p, ip: ctx.remoteIP)
            return try Reply.json(["channel": channel.rawValue, "outcome": outcome, "delivered": outcome == "sent" ? "true" : "false"])
        }
        t.add(.get, "/notifications/events", "Each event with its channels, recipients and template (administrators)", response: .object([EventSettings].self)) { _, ctx in
            try Reply.json(try await custody.notificationSettings.events(by: try ctx.caller()))
        }
        t.add(.put, "/notifications/events/:event", "Set an event's channels and recipients (administrators)", body: NotificationRule.self, response: .empty) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let e = try event(ctx)
            let b = try await req.decodeStrict(NotificationRule.self, limit: custody.config.maxBodyBytes)
            try await custody.notificationSettings.saveRule(b, for: e, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.get, "/notifications/templates/:event", "An event's template (administrators)", response: .object(NotificationTemplate.self)) { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            return try Reply.json(try await custody.notificationSettings.template(try event(ctx), by: p))
        }
        t.add(.put, "/notifications/templates/:event", "Replace an event's template; {{placeholders}} are checked (administrators)", body: NotificationTemplate.self, response: .empty) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let e = try event(ctx)
            let b = try await req.decodeStrict(NotificationTemplate.self, limit: custody.config.maxBodyBytes)
            try await custody.notificationSettings.saveTemplate(b, for: e, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.delete, "/notifications/templates/:event", "Go back to an event's default template (administrators)", response: .empty) { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            try await custody.notificationSettings.saveTemplate(nil, for: try event(ctx), by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.get, "/notifications", "Queued, sent and failed notifications about what you can see, newest first (?state=pending|sent|failed&limit=N)", response: .object([NotificationView].self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .readAudit)
            let state = req.uri.queryParameters.get("state")
            if let state, !["pending", "sent", "failed"].contains(state) {
                throw APIError.badRequest("invalid_query", "state must be pending, sent or failed")
            }
            let limit = min(max(Int(req.uri.queryParameters.get("limit") ?? "") ?? 100, 1), 1000)
            return try Reply.json(try await custody.notificationSettings.list(state: state.flatMap(OutboxState.init(rawValue:)), limit: limit, by: p))
        }
    }
}
