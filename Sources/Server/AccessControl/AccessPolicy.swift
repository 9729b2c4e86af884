import Foundation

/// An account's access-control rules (PMP's "Configure Access Control"), stored on an account, a
/// resource or a group; an account without its own takes its resource's, then its first group's
/// (by name). People are stored by id; the API names them.
struct AccessPolicy: Codable, Sendable, Equatable {
    /// Users and user groups, by id.
    struct People: Codable, Sendable, Equatable {
        var users: [String] = []
        var userGroups: [String] = []
        var isEmpty: Bool { users.isEmpty && userGroups.isEmpty }
    }

    static let defaultMaxMinutes = 480
    static let defaultPendingMinutes = 1440
    static let maxMinutesLimit = 7 * 1440

    var enabled = true
    var approvers = People()
    /// 1 or 2 distinct approvers, never the requester.
    var approvalsRequired = 1
    /// The longest checkout a request may ask for.
    var maxMinutes = AccessPolicy.defaultMaxMinutes
    /// How long a request waits for its approvals (and an approved one for its checkout).
    var pendingMinutes = AccessPolicy.defaultPendingMinutes
    /// One holder at a time; other requests wait in `pending`.
    var exclusive = true
    /// A remote reset when the password comes back.
    var resetOnCheckin = false
    var autoApprove: AutoApprove? = nil
    /// Their requests are approved at once (they still check out, one holder at a time).
    var exempt = People()
    var requireTicket = false
    /// A remote reset of the accounts a user or user group loses a share on (resource and group scope).
    var resetOnShareRemoval = false
}

/// When requests approve themselves: always, or within weekly windows in a time zone.
struct AutoApprove: Codable, Sendable, Equatable {
    struct Window: Codable, Sendable, Equatable {
        static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        /// `mon` … `sun`; empty means every day.
        var days: [String] = []
        var from: String
        var to: String
    }
    var always = false
    var windows: [Window] = []
    var timeZone: String? = nil

    /// True when a request made at `at` is approved by the policy itself.
    func covers(_ at: Date) -> Bool {
        if always { return true }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: at)
        guard let weekday = parts.weekday, let hour = parts.hour, let minute = parts.minute else { return false }
        let now = hour * 60 + minute
        let day = Window.dayNames[weekday - 1]
        return windows.contains { w in
            guard w.days.isEmpty || w.days.contains(day), let from = RotationSchedule.minutes(w.from), let to = RotationSchedule.minutes(w.to)
            else { return false }
            return from <= to ? (from <= now && now < to) : (now >= from || now < to)
        }
    }
}

/// Where an account's rules come from.
enum AccessScope: String, Codable, Sendable, CaseIterable {
    case account, resource, group
}

/// The rules that govern one account and where they were set.
struct EffectivePolicy: Sendable, Equatable {
    var policy: AccessPolicy
    var scope: AccessScope
    /// The account, resource or group id the rules are stored on.
    var scopeId: String
    /// The group's name when inherited from a group.
    var scopeName: String
}
