import Foundation
import Shared

/// An account a run looks at: its target as stored, its tasks under way and its policy.
struct RunCandidate: Sendable {
    var target: TargetFacts
    var resetUnderWay: Bool
    var verifyUnderWay: Bool
    var policy: PasswordPolicy
    /// No current password and no candidate: a verify would have nothing to log in with.
    var nothingToVerify = false
    /// Who has the password checked out, and until when (a rotation puts its reset off).
    var checkedOut: String? = nil
}

/// One account's line in a run: skipped (the entry says why) or a task queued, with a password
/// chosen for it sealed as its pending one.
struct RunStep: Sendable {
    var entry: RotationRunRecord.Entry
    var task: TaskRecord? = nil
    var pending: Secret? = nil
    /// Put off because the password is checked out: the check-in resets it.
    var catchUp = false
}

/// The integrity check's schedule as stored.
struct IntegritySettings: Sendable {
    var dailyAt: String?
    var timeZone: String?
    var lastRunAt: Date?
}

/// Whether the nightly check runs now: not at all, only noting the time (a first start), or run.
enum NightlyDecision: Sendable { case skip, noteOnly, run }

/// An account whose password may have expired: its target, policy, when its password was set and
/// whether a group of its resource resets expired passwords.
struct ExpiryCandidate: Sendable {
    var target: TargetFacts
    var policy: PasswordPolicy
    var changedAt: Date
    var resetOnExpiry: Bool
    var resetUnderWay: Bool
    var checkedOut: String? = nil
}

/// What an expiry records: its audit record, its notice and the reset it queues, if any.
struct ExpiryStep: Sendable {
    var audit: AuditEvent
    var notice: Notice
    var task: TaskRecord?
    var catchUp = false
}

/// Rotation runs and integrity runs (each a batch of tasks queued in one transaction with the run
/// and its audit record), the integrity schedule and report, expiries and the rotation notices.
/// A scheduled start re-checks in its transaction that it is due, so it runs once.
protocol RunStore: ReportStore {
    /// The groups that have a rotation schedule.
    func scheduledGroups() async throws -> [GroupRecord]
    /// Starts a rotation of the group when `due` says so: `plan` gets the accounts of the group's
    /// resources that have a reset config, by resource and login name. With a `caller`, the group
    /// must be visible to it and `authorize` decides on its permission. `ranAt` records the
    /// schedule's run. nil when the group is gone, not visible or not due.
    func startRotation(of groupID: String, trigger: String, by user: String, at: Date, ranAt: Date?, caller: Principal?,
        authorize: @Sendable (Permission) throws -> Void, due: @Sendable (SavedRotation?) -> Bool,
        plan: @Sendable (GroupRecord, RotationConfig?, [[RunCandidate]]) throws -> [RunStep],
        audit: @Sendable (GroupRecord, RotationRunRecord) -> AuditEvent) async throws -> RotationRunRecord?
    /// A scheduled start that failed: its audit record, and the schedule's run recorded.
    func rotationFailed(_ groupID: String, at: Date, audit: AuditEvent) async throws
    /// The run with the accounts `scope` shows (all when nil); `authorize` decides on the caller's
    /// permission on its group. nil when there is no such run or the group is not visible.
    func rotationRun(_ id: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> RotationRunView?
    /// Raises each schedule's pre-notice once per run (`pre` decides when, given the accounts it will
    /// change) and each finished run's post-notice once.
    func sendRotationNotices(at: Date, pre: @Sendable (GroupRecord, SavedRotation, [RotationRunRecord.Entry]) -> Notice?,
        post: @Sendable (RotationRunView, GroupRecord?, SavedRotation?) -> Notice) async throws

    func integritySettings() async throws -> IntegritySettings
    func saveIntegritySettings(dailyAt: String?, timeZone: String?, audit: AuditEvent) async throws
    /// A page of runs, newest first, without their accounts; counts cover the accounts the caller
    /// sees. `groups` (rotation runs): nil for every group, else only these.
    func runs(_ kind: RunListQuery.Kind, groups: [String]?, trigger: String?, _ req: PageRequest, visibleTo p: Principal) async throws
        -> Page<RunListItem>

    /// Starts an integrity run over every account with a reset config; with `nightly`, only when it
    /// decides so on the stored settings (`noteOnly` and `run` record `at` as the last run).
    func startIntegrity(trigger: String, by user: String, at: Date, nightly: (@Sendable (IntegritySettings) -> NightlyDecision)?,
        plan: @Sendable ([[RunCandidate]]) throws -> [RunStep], audit: @Sendable (RotationRunRecord) -> AuditEvent) async throws
        -> RotationRunRecord?
    func integrityRun(_ id: String, visibleTo p: Principal) async throws -> RotationRunView?
    /// The report's rows, of the accounts the caller may see.
    func integrityReport(visibleTo p: Principal) async throws -> [IntegrityRow]

    /// The accounts the caller sees whose effective policy has a maximum age, with when their
    /// current password was set (accounts without a password are left out).
    func passwordAges(visibleTo p: Principal) async throws -> [PasswordAge]

    /// Records each newly expired password once (per password), as `step` says, in one
    /// transaction; returns the accounts. Only accounts whose policy has a maximum age are asked.
    func recordExpiries(at: Date, step: @Sendable (ExpiryCandidate) -> ExpiryStep?) async throws -> [String]
}
