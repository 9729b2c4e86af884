import Foundation

/// The body of `PUT /notifications/events/{event}`: whether the event sends email and syslog
/// messages, and to whom. Rotation events also go to the recipients of the group's schedule;
/// listener approvals also go to every other administrator.
struct NotificationRule: Codable, Sendable, Equatable, APIBody {
    var email: Bool?
    var syslog: Bool?
    var recipients: RotationConfig.Recipients?

    static let fields = ["email", "syslog", "recipients"]

    /// Email to the users with access, and syslog, unless the event's rule says otherwise.
    static let standard = NotificationRule(email: true, syslog: true, recipients: .init(usersWithAccess: true))

    func validate() throws {
        if let r = recipients { try RotationConfig.validate(r) }
    }
}
