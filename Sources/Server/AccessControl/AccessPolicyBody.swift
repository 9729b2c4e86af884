import Foundation

/// `PUT …/access-control`: the rules, people by name. Absent fields take their defaults.
struct AccessPolicyBody: APIBody {
    static let fields = ["enabled", "approvers", "approvalsRequired", "maxMinutes", "pendingMinutes", "exclusive", "resetOnCheckin",
        "autoApprove", "exempt", "requireTicket", "resetOnShareRemoval"]
    struct People: Codable, Sendable, Equatable {
        var users: [String]? = nil
        var userGroups: [String]? = nil
    }
    struct Auto: Codable, Sendable, Equatable {
        struct Window: Codable, Sendable, Equatable {
            var days: [String]?
            var from: String
            var to: String
        }
        var always: Bool?
        var windows: [Window]?
        var timeZone: String?
    }
    var enabled: Bool?
    var approvers: People?
    var approvalsRequired: Int?
    var maxMinutes: Int?
    var pendingMinutes: Int?
    var exclusive: Bool?
    var resetOnCheckin: Bool?
    var autoApprove: Auto?
    var exempt: People?
    var requireTicket: Bool?
    var resetOnShareRemoval: Bool?

    func validate() throws {
        try Validate.number(approvalsRequired, field: "approvalsRequired", in: 1...2)
        try Validate.number(maxMinutes, field: "maxMinutes", in: 1...AccessPolicy.maxMinutesLimit)
        try Validate.number(pendingMinutes, field: "pendingMinutes", in: 1...AccessPolicy.maxMinutesLimit)
        for p in [approvers, exempt].compactMap({ $0 }) {
            for n in (p.users ?? []) + (p.userGroups ?? []) { try Validate.name(n, field: "approvers/exempt name") }
            try Validate.count((p.users ?? []).count + (p.userGroups ?? []).count, field: "approvers/exempt", in: 0...100, what: "names")
        }
        guard let a = autoApprove else { return }
        if let tz = a.timeZone, TimeZone(identifier: tz) == nil {
            throw DomainError.invalid("invalid_field", "autoApprove.timeZone '\(tz)' is not an IANA time zone")
        }
        try Validate.count((a.windows ?? []).count, field: "autoApprove.windows", in: 0...20, what: "windows")
        for w in a.windows ?? [] {
            try Validate.clock(w.from, field: "autoApprove.windows.from")
            try Validate.clock(w.to, field: "autoApprove.windows.to")
            guard w.from != w.to else { throw DomainError.invalid("invalid_field", "an autoApprove window must not start where it ends") }
            for d in w.days ?? [] where !AutoApprove.Window.dayNames.contains(d) {
                throw DomainError.invalid("invalid_field", "autoApprove day '\(d)' must be one of \(AutoApprove.Window.dayNames.joined(separator: ", "))")
            }
        }
    }
}

/// What the API shows of an object's access control: the rules that apply (set here or
/// inherited), people by name, and on an account who holds the password now.
struct AccessPolicyView: Codable, Sendable {
    struct People: Codable, Sendable { var users: [String]; var userGroups: [String] }
    struct Holder: Codable, Sendable {
        var requestId: String
        var user: String
        var until: Date?
    }
    var enabled: Bool
    var approvers: People
    var approvalsRequired: Int
    var maxMinutes: Int
    var pendingMinutes: Int
    var exclusive: Bool
    var resetOnCheckin: Bool
    var autoApprove: AutoApprove?
    var exempt: People
    var requireTicket: Bool
    var resetOnShareRemoval: Bool
    /// True when these rules are stored on this object; false when inherited or none apply.
    var setHere: Bool
    /// Where inherited rules come from: `resource`, or `group NAME`.
    var inheritedFrom: String?
    /// Accounts only: who holds the password now, how many requests wait, and a check-in reset that failed.
    var holders: [Holder]?
    var waiting: Int?
    var attention: String?
}
