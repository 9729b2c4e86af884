import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `NotificationSettingsStore` must do: the SMTP password is kept sealed and
/// never follows a new host or user name; a rule and a template are saved per event and a template
/// goes back to its default; every change is audited.
@Suite struct NotificationSettingsStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static func body(host: String, user: String?, password: String?) -> NotificationSettingsBody {
        NotificationSettingsBody(smtp: .init(host: host, port: 587, security: .starttls, username: user, password: password.map(Secret.init),
            from: "vault@example.org"), syslog: nil, accessURL: nil, serverName: "vault01")
    }
    static let saved = AuditEvent(user: "ana", ip: "t", operation: "save_settings")

    @Test(arguments: StoreBackend.names("notificationSettings"))
    func theSMTPPasswordStaysWithItsHostAndUser(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.notificationSettings.saveChannels(Self.body(host: "mail.example.org", user: "vault", password: "Mail-Pass-1!"), audit: Self.saved)
        var c = try await b.notificationSettings.channels()
        #expect(c.smtp?.password?.reveal() == "Mail-Pass-1!" && c.serverName == "vault01")
        try await b.notificationSettings.saveChannels(Self.body(host: "mail.example.org", user: "vault", password: nil), audit: Self.saved)
        #expect(try await b.notificationSettings.channels().smtp?.password?.reveal() == "Mail-Pass-1!", "kept when left out")
        try await b.notificationSettings.saveChannels(Self.body(host: "other.example.org", user: "vault", password: nil), audit: Self.saved)
        c = try await b.notificationSettings.channels()
        #expect(c.smtp?.host == "other.example.org" && c.smtp?.password == nil, "never follows a new host")
        try await b.notificationSettings.saveChannels(NotificationSettingsBody(), audit: Self.saved)
        #expect(try await b.notificationSettings.channels().smtp == nil)
        #expect(try await b.auditOperations().filter { $0 == "save_settings" }.count == 4)
    }

    @Test(arguments: StoreBackend.names("notificationSettings"))
    func rulesAndTemplatesAreSavedPerEvent(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        let events = try await b.notificationSettings.events()
        #expect(events.map(\.event) == NotificationEvent.allCases.map(\.rawValue) && events.allSatisfy { !$0.customTemplate })
        try await b.notificationSettings.saveRule(NotificationRule(email: false, syslog: true), for: .resetFailed, at: Self.t0, by: "ana",
            audit: AuditEvent(user: "ana", ip: "t", operation: "save_notification_rule"))
        let custom = NotificationTemplate(subject: "Failed: {{resource}}", body: "{{message}}")
        try await b.notificationSettings.saveTemplate(custom, for: .resetFailed, at: Self.t0, by: "ana",
            audit: AuditEvent(user: "ana", ip: "t", operation: "save_notification_template"))
        var failed = try #require(try await b.notificationSettings.events().first { $0.event == "reset_failed" })
        #expect(failed.rule.email == false && failed.rule.syslog == true && failed.customTemplate && failed.template.subject == custom.subject)
        try await b.notificationSettings.saveTemplate(nil, for: .resetFailed, at: Self.t0, by: "ana",
            audit: AuditEvent(user: "ana", ip: "t", operation: "reset_notification_template"))
        failed = try #require(try await b.notificationSettings.events().first { $0.event == "reset_failed" })
        #expect(!failed.customTemplate && failed.template.subject == NotificationEvent.resetFailed.defaultTemplate.subject)
        #expect(try await b.auditOperations().suffix(3) == ["save_notification_rule", "save_notification_template", "reset_notification_template"])
    }
}
