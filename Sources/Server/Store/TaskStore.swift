import Foundation
import Shared

/// What the store holds about an account's reset target, read in one transaction.
struct TargetFacts: Sendable {
    var resource: ResourceRecord
    var account: AccountRecord
    var config: ResetConfig?
    /// The agent bound to the resource, if one is (and not revoked).
    var agentID: String?
    /// The plugin of the resource's type; "none" when the type has none.
    var pluginID: String
    /// The listener named by an `external:<name>` plugin, if it exists.
    var customPlugin: ListenerRecord?
}

/// A task's target with the passwords a run uses: the account's, and those of the accounts its
/// reset config names (login, root or enable account), by the name it uses.
struct RunFacts: Sendable {
    struct Named: Sendable {
        var loginName: String
        var secret: Secret?
    }
    var target: TargetFacts
    var current: Secret?
    var named: [String: Named]
    var policy: PasswordPolicy
}

/// A task with its account and resource, named only while the caller can see them.
struct NamedTask: Sendable {
    var task: TaskRecord
    var account: AccountRecord?
    var resource: ResourceRecord?
}

/// What a reset's transaction writes besides the task: a pending password dropped, the account's
/// sync status, audit records and notices, all or nothing.
struct TaskWrite: Sendable {
    var task: TaskRecord
    var dropPending: String? = nil
    var sync: SyncStatus? = nil
    /// With `sync`: when the target was last asked (a verify's answer).
    var verifiedAt: Date? = nil
    var audit: [AuditEvent] = []
    var notices: [Notice] = []
    /// `Notice.onceKey`s to forget (an account back in sync).
    var clearMarks: [String] = []
}

/// The due tasks the engine may start now.
extension TaskRecord {
    /// The result code of a reset taken back from a run that may still be alive (another node, or
    /// a run here that gave up its hold): its reconcile keeps the new password as a candidate.
    static let takenOverCode = "takenOver"
}

struct ClaimRequest: Sendable {
    var at: Date
    var limit: Int
    var agentLimit: Int
    var perHost: Int
    var busyHosts: [String: Int]
    /// Tasks an earlier run of which still ends on this node: not claimed, and their accounts wait.
    var excluding: Set<String> = []
    /// Names this claim (several nodes): each run of a task it claims carries it (`RunningTask.claim`),
    /// and the store refuses a run's write once the task was claimed or taken since.
    var token: String? = nil
}

/// Before a task is queued: the account's other tasks, and its policy when asked for.
struct QueueFacts: Sendable {
    var resetUnderWay: Bool
    var verifyUnderWay: Bool
    var policy: PasswordPolicy?
}

/// Reset and verify tasks with their pending passwords (DESIGN §3). Every method is one
/// transaction; what it decides, it decides on what is stored then.
protocol TaskStore: Sendable {
    func task(_ id: String) async throws -> TaskRecord?
    /// How many of the user's tasks are queued or running.
    func activeCount(requestedBy userID: String) async throws -> Int
    /// The task if the caller asked for it, or can see its account (`authorize` decides on that
    /// permission); nil otherwise.
    func task(_ id: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> NamedTask?
    /// One page, newest first (by creation time, then id): the caller's own tasks, or (`mine`
    /// false) also those of every account it can see. The cursor's key is the creation time in seconds.
    func tasks(visibleTo p: Principal, mine: Bool, state: TaskRecord.State?, page: PageRequest) async throws -> Page<NamedTask>
    /// The target of an account and what a run needs; `refs` names the accounts the config uses.
    /// Throws `DomainError.notFound` when the account is gone, `unknown_account` for a missing ref.
    func run(resourceID: String, accountID: String, refs: @Sendable (ResetConfig?) -> [String]) async throws -> RunFacts
    /// Queues what `plan` makes of the account (with its given password sealed as pending under the
    /// task's `pendingSecretId`); nil when the caller cannot see the account.
    func queue(_ accountID: String, of resourceID: String, visibleTo p: Principal, withPolicy: Bool,
        authorize: @Sendable (Permission) throws -> Void, plan: @Sendable (TargetFacts, QueueFacts) throws -> (TaskRecord, Secret?),
        audit: @Sendable (TaskRecord, ResourceRecord, AccountRecord) -> AuditEvent) async throws -> TaskRecord?
    /// Marks due tasks running (oldest first): within the limits, at most `perHost` per host and one
    /// per account. A queued task whose `notAfter` has passed ends as `windowClosed` says; a verify
    /// found while a reset of its account is under way ends as `supersededVerify` says.
    func claim(_ request: ClaimRequest, windowClosed: @Sendable (TaskRecord) -> TaskWrite,
        supersededVerify: @Sendable (TaskRecord) -> TaskWrite) async throws -> [TaskRecord]
    /// Whether `claim` could start anything now: a due task within the limits, on a host below
    /// its limit, of an account with nothing running. The engine asks this without taking the writer.
    func anyClaimable(_ request: ClaimRequest) async throws -> Bool
    /// Whether any task is queued or waits in reconcile, due or not: with none, the engine sleeps
    /// until a change to the tasks wakes it.
    func hasWork() async throws -> Bool
    /// The tasks left running by a stop, each replaced by what `recover` makes of it.
    func recover(_ recover: @Sendable (TaskRecord) -> TaskRecord) async throws -> [TaskRecord]
    func save(_ write: TaskWrite) async throws
    /// Ends a task as `decide` says; `superseded` tells whether a verify's answer is stale (a reset
    /// is under way, or the password changed since the verify started). Always false for a reset.
    func finish(_ task: TaskRecord, _ decide: @Sendable (TaskRecord, _ superseded: Bool) -> TaskWrite) async throws
    /// The pending password becomes current (history kept to the policy's depth), listeners are
    /// queued with `listenerTrigger`, the account is in sync and changed `at`, stale candidates go,
    /// and `write` is applied.
    func commit(_ write: TaskWrite, at: Date, listenerTrigger: String) async throws
    /// Seals `secret` as `task`'s pending password (fenced like the run's other writes).
    func writePending(_ secret: Secret, id: String, account: String, by: String, at: Date, task: String) async throws
    func pending(_ id: String, account: String) async throws -> Secret?
    /// Deletes `task`'s pending password (fenced like the run's other writes, whatever the task's state).
    func dropPending(_ id: String, task: String) async throws
    /// The pending passwords of the account a reset may have set, newest first.
    func candidates(account: String) async throws -> [SecretStore.Candidate]
    /// Drops candidates `task`'s verify found stale (fenced like the run's other writes).
    func dropCandidates(_ ids: [String], task: String, audit: AuditEvent) async throws
    /// The candidate becomes current unless `task` is superseded; true when it did.
    func promote(_ candidateID: String, for task: TaskRecord, at: Date, audit: AuditEvent) async throws -> Bool
    /// Pins the host key unless one is pinned already; true when this call pinned it. Within a
    /// task's run it is fenced like the run's other writes.
    func pinHostKey(_ key: String, resourceID: String, task: String?, audit: @Sendable (ResourceRecord) -> AuditEvent) async throws -> Bool
    /// Ends the task as `decide` says (it may refuse by throwing); nil when there is no such task.
    func abandon(_ id: String, _ decide: @Sendable (TaskRecord) throws -> TaskWrite) async throws -> TaskRecord?
    /// Several nodes on one store: renews this node's hold on the running tasks it runs (`held`).
    func heartbeat(held: [String]) async throws
    /// Several nodes on one store: this node stopped gracefully and leaves the list of nodes.
    func leave() async throws
    /// Several nodes on one store: the running tasks whose hold lapsed (a stopped node's, or this
    /// node's that it does not run: not in `held`), each replaced by what `recover` makes of it.
    func recoverLapsed(held: [String], _ recover: @Sendable (TaskRecord) -> TaskRecord) async throws -> [TaskRecord]
    /// Several nodes on one store: a task this node holds that is still running after its run
    /// ended (its last write failed while the database was away), replaced by what `recover`
    /// makes of it; nil when it is not such a task.
    func recoverHeld(_ id: String, _ recover: @Sendable (TaskRecord) -> TaskRecord) async throws -> TaskRecord?
}

/// One node alone on its store (SQLite) holds every running task: nothing to renew or take over.
extension TaskStore {
    func heartbeat(held: [String]) async throws {}
    func leave() async throws {}
    func recoverLapsed(held: [String], _ recover: @Sendable (TaskRecord) -> TaskRecord) async throws -> [TaskRecord] { [] }
    /// A task left running there is recovered at the node's next start.
    func recoverHeld(_ id: String, _ recover: @Sendable (TaskRecord) -> TaskRecord) async throws -> TaskRecord? { nil }
}

extension TaskStore {
    /// The newest `limit` tasks of `tasks(visibleTo:mine:state:page:)`.
    func tasks(visibleTo p: Principal, mine: Bool, state: TaskRecord.State?, limit: Int) async throws -> [NamedTask] {
        try await tasks(visibleTo: p, mine: mine, state: state, page: PageRequest(limit: limit)).items
    }
}

extension NamedTask {
    static func cursor(_ t: NamedTask) -> PageCursor { PageCursor(key: String(t.task.createdAt.timeIntervalSince1970), id: t.task.id) }
}
