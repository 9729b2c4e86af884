import Foundation

/// The body of `PUT /groups/{gid}/rotation`.
struct RotationConfig: Codable, Sendable, Equatable, APIBody {
    enum PasswordChoice: String, Codable, Sendable, CaseIterable { case unique, common }

    struct Recipients: Codable, Sendable, Equatable {
        /// The users with access to the passwords, worked out at send time.
        var usersWithAccess: Bool?
        var users: [String]?
        var userGroups: [String]?
        var emails: [String]?
    }

    struct PreNotify: Codable, Sendable, Equatable {
        var minutesBefore: Int
        var recipients: Recipients
    }

    struct PostNotify: Codable, Sendable, Equatable {
        var recipients: Recipients
    }

    var schedule: RotationSchedule
    var passwordChoice: PasswordChoice
    var preNotify: PreNotify?
    var postNotify: PostNotify?
    /// Reset an account of the group as soon as its password expires (its policy's maximum age).
    var resetOnExpiry: Bool?

    static let fields = ["schedule", "passwordChoice", "preNotify", "postNotify", "resetOnExpiry"]
    static let required = ["schedule", "passwordChoice"]

    func validate() throws {
        if let r = Validate.recorder {  // the shape problem() checks, for the document
            for f in ["schedule.at", "schedule.allowedHours.from", "schedule.allowedHours.to"] { r.note(f, ["pattern": Validate.clockPattern]) }
            r.note("schedule.date", ["pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"])
            r.note("schedule.everyDays", ["minimum": 1, "maximum": 3650])
            r.note("schedule.dayOfMonth", ["minimum": 1, "maximum": 31])
            r.note("preNotify.minutesBefore", ["minimum": 1, "maximum": 10080])
        }
        if let problem = schedule.problem() { throw DomainError.invalid("invalid_schedule", problem) }
        if let pre = preNotify, !(1...10080).contains(pre.minutesBefore) {
            throw DomainError.invalid("invalid_field", "preNotify.minutesBefore must be 1 minute to 7 days (1...10080)")
        }
        for r in [preNotify?.recipients, postNotify?.recipients].compactMap({ $0 }) { try Self.validate(r) }
    }

    static func validate(_ r: Recipients) throws {
        for e in r.emails ?? [] { try NotificationSettingsBody.address(e, "recipients.emails") }
        for name in (r.users ?? []) + (r.userGroups ?? []) { try Validate.name(name, field: "recipients", max: 200) }
    }
}

/// One run of a group's rotation: which accounts it took, which it skipped and why.
struct RotationRunRecord: Codable, Sendable {
    struct Entry: Codable, Sendable {
        var resourceId, accountId, resource, account: String
        var taskId: String?
        var skipped: String?
    }

    var id: String
    var groupId: String
    var trigger: String
    var requestedBy: String
    var startedAt: Double
    var entries: [Entry]
}
