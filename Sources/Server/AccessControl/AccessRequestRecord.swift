import Foundation
import GRDB

/// One request for an account's password: asked, approved (or rejected, or void), checked out for a
/// window, checked in. It keeps the rules it was made under (approvers, approvals needed, exclusive,
/// reset on check-in), so a later edit of the policy does not change a request in flight.
struct AccessRequestRecord: Codable, FetchableRecord, PersistableRecord, Sendable, Equatable {
    static let databaseTableName = "accessRequests"
    enum State: String, Codable, Sendable, CaseIterable {
        case pending, approved, rejected, checkedOut, checkedIn, expired
        /// The request still counts: it may yet give (or gives) the password.
        var isLive: Bool { self == .pending || self == .approved || self == .checkedOut }
    }
    struct Approval: Codable, Sendable, Equatable {
        var userId: String
        var username: String
        /// Seconds since 1970 (kept as a number inside the JSON column).
        var at: Double
        var comment: String?
    }

    var id: String
    var resourceId: String
    var accountId: String
    /// The resource's and account's names when the request was made.
    var resource: String
    var account: String
    var requesterId: String
    var requester: String
    var reason: String
    var ticketId: String?
    var minutes: Int
    var state: State
    /// Eligible approvers (user ids) when the request was made, user groups expanded.
    var approverIds: [String]
    var approvalsRequired: Int
    var exclusive: Bool
    var resetOnCheckin: Bool
    /// How long it may wait for approvals, and once approved for its checkout.
    var pendingMinutes: Int
    /// Approved by the policy (an exempt user, or an auto-approve window), not by people.
    var autoApproved: Bool
    var approvals: [Approval]
    /// Who rejected it, or who it was auto-approved by (`policy`).
    var decidedBy: String?
    var comment: String?
    var createdAt: Date
    /// When a pending or approved request goes void (nil: approved in full and waiting for the holder).
    var expiresAt: Date?
    var approvedAt: Date?
    var checkedOutAt: Date?
    /// The end of the checkout: the server checks the password in at this time.
    var until: Date?
    var checkedInAt: Date?
    var checkedInBy: String?
    var checkinReason: String?
    /// The reset the check-in queued, or why none could be.
    var resetTaskId: String?
    var resetProblem: String?
    /// A scheduled rotation or expiry reset met the checkout and was put off until the check-in.
    var catchUp: Bool

    var fullyApproved: Bool { autoApproved || approvals.count >= approvalsRequired }
}

extension AccessRequestRecord: EpochDates {}

/// What a store knows of one account's access control, read in one transaction.
struct AccessFacts: Sendable {
    var resource: ResourceRecord
    var account: AccountRecord
    /// The caller's permission on the account (nil: it cannot see it).
    var permission: Permission?
    var policy: EffectivePolicy?
    /// Requests still in play for the account (pending, approved, checked out), oldest first.
    var live: [AccessRequestRecord]
    /// For a check-in's reset: how the target is reached, and whether a reset is under way.
    var target: TargetFacts
    var resetUnderWay: Bool
    /// The last check-in whose reset did not succeed and that no later reset made good.
    var attention: AccessRequestRecord?
    /// The policy's approvers (user groups expanded) and exempt users, as they are now.
    var approvers: [AccessPerson]
    var exempt: Set<String>
    /// Whether the resource's (else its first group's) rules reset accounts when a share ends.
    var resetOnShareRemoval: Bool

    var holders: [AccessRequestRecord] { live.filter { $0.state == .checkedOut } }
}

/// What a transition writes, in the transaction that read its facts.
struct AccessWrite: Sendable {
    var requests: [AccessRequestRecord] = []
    /// Inserted rather than updated.
    var created: AccessRequestRecord? = nil
    var audit: [AuditEvent] = []
    var notices: [Notice] = []
    /// A reset to queue (the check-in's), run by the engine as any other.
    var task: TaskRecord? = nil
}
