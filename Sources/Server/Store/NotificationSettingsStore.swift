import Foundation

/// One event's notification settings: who is told on which channel, and what it says.
struct EventSettings: Sendable, Codable {
    var event: String
    var rule: NotificationRule
    var template: NotificationTemplate
    var customTemplate: Bool
}

/// The notification channels (the mail server with its password sealed in the vault, the syslog
/// receiver), each event's rule and template, and the scope of the outbox a caller may list. Every
/// change is one transaction with its audit record.
protocol NotificationSettingsStore: Sendable {
    /// The channels, with the SMTP password opened.
    func channels() async throws -> NotificationChannels
    /// Replaces the channels. A given SMTP password is sealed; a stored one is dropped when the
    /// host or user name changes, or the user name goes.
    func saveChannels(_ body: NotificationSettingsBody, audit: AuditEvent) async throws
    /// Every event, with its rule and template (the defaults where none is saved).
    func events() async throws -> [EventSettings]
    func saveRule(_ rule: NotificationRule, for event: NotificationEvent, at: Date, by user: String, audit: AuditEvent) async throws
    /// Saves the event's template; nil goes back to the default.
    func saveTemplate(_ template: NotificationTemplate?, for event: NotificationEvent, at: Date, by user: String, audit: AuditEvent) async throws
    /// What the caller may see of notifications about accounts.
    func scope(of p: Principal) async throws -> ListScope
}
