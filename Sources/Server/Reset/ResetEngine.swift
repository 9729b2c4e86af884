import Foundation
import Logging
import Shared

/// The life of a reset (DESIGN §3): queue, claim, run, reconcile, commit. The vault always keeps a
/// password that works: the new one is sealed as pending first, committed only once it is
/// verified, and a lost answer is reconciled by trying both.
struct ResetEngine: Sendable {
    struct Settings: Sendable {
        var maxAttempts = 3
        var retrySeconds: Double = 30
        var reconcileRetries = 5
        var reconcileSlowSeconds: Double = 3600
        var perHostLimit = 2
    }

    let store: any TaskStore
    let audit: AuditTrail
    let authorizer: Authorizer
    let targets: ResetTargets
    let settings: Settings
    let faults: ResetFaults
    /// Poked when a task is queued: the engine claims it.
    let signal: TaskSignal
    let now: @Sendable () -> Date
    let logger: Logger
    /// Refuses a change while someone else has the password checked out.
    var accessGate: (@Sendable (_ rid: String, _ aid: String, Principal, _ chosen: Bool) async throws -> Void)? = nil
    /// What this node runs now (`TaskEngine` keeps it; the heartbeat renews only these).
    let held = HeldTasks()

    var machine: ResetStateMachine { ResetStateMachine(maxAttempts: settings.maxAttempts) }

    func queueReset(rid: String, aid: String, by p: Principal, newPassword: Secret?, reason: String?, ticketId: String?, ip: String)
        async throws -> TaskRecord
    {
        try await accessGate?(rid, aid, p, newPassword != nil)
        let at = now()
        let task = try await store.queue(aid, of: rid, visibleTo: p, withPolicy: newPassword != nil, authorize: authorizer.on(p, .changePassword),
            plan: { [targets] facts, state in
                let target = try targets.resolve(facts)
                try target.checkLoginName()
                if let given = newPassword, let policy = state.policy {
                    let problems = policy.violations(of: given, loginName: facts.account.loginName)
                    if !problems.isEmpty {
                        throw DomainError.invalid("policy_violation", "the password breaks policy \(policy.name): \(problems.joined(separator: "; "))")
                    }
                    if let problem = target.plugin.descriptor.constraints.problem(with: given) {
                        throw DomainError.invalid("unsupported_password", "the target cannot take this password: \(problem)")
                    }
                }
                if state.resetUnderWay { throw DomainError(.conflict, "reset_in_progress", "a reset of this account is already under way") }
                var t = Self.newTask(.reset, facts, by: p.username, id: p.userID, reason: reason, ticketId: ticketId, at: at)
                if newPassword != nil {
                    t.pendingSecretId = newID()
                    t.newPasswordGiven = true
                }
                return (t, newPassword)
            },
            audit: { t, r, a in
                AuditEvent(user: p.username, ip: ip, operation: "queue_reset", resource: r.name, account: a.loginName, reason: reason,
                    ticketId: ticketId, message: "task \(t.id)", resourceId: r.id, accountId: a.id)
            })
        guard let task else { throw DomainError.notFound("account") }
        signal.poke()
        return task
    }

    func queueVerify(rid: String, aid: String, by p: Principal, ip: String) async throws -> TaskRecord {
        let at = now()
        let task = try await store.queue(aid, of: rid, visibleTo: p, withPolicy: false, authorize: authorizer.on(p, .readAccount),
            plan: { [targets] facts, state in
                try targets.resolve(facts).checkLoginName()
                if state.resetUnderWay {
                    throw DomainError(.conflict, "reset_in_progress", "a reset of this account is under way; its own verify settles the account")
                }
                if state.verifyUnderWay {
                    throw DomainError(.conflict, "verify_in_progress", "a verify of this account is already queued or running")
                }
                return (Self.newTask(.verify, facts, by: p.username, id: p.userID, reason: nil, ticketId: nil, at: at), nil)
            },
            audit: { t, r, a in
                AuditEvent(user: p.username, ip: ip, operation: "queue_verify", resource: r.name, account: a.loginName,
                    message: "task \(t.id)", resourceId: r.id, accountId: a.id)
            })
        guard let task else { throw DomainError.notFound("account") }
        signal.poke()
        return task
    }

    /// A queued task for the account, asked for by a user (with its id) or by `schedule`/`expiry` (no id).
    static func newTask(_ kind: TaskRecord.Kind, _ f: TargetFacts, by user: String, id userID: String? = nil, reason: String?,
        ticketId: String? = nil, at: Date) -> TaskRecord
    {
        TaskRecord(id: newID(), kind: kind, state: .queued, phase: .queued, via: f.config?.mode == .agent ? "agent" : "agentless",
            resourceId: f.resource.id, accountId: f.account.id, host: f.resource.dnsName.lowercased(), requestedBy: user, requestedById: userID,
            newPasswordGiven: false, pendingSecretId: nil, attempts: 0, resultCode: nil, resultMessage: nil, reason: reason, ticketId: ticketId,
            createdAt: at, startedAt: nil, finishedAt: nil, notBefore: 0)
    }

    /// An administrator ends a reset whose reconcile cannot settle (the target is gone, its agent
    /// revoked, its reset configuration removed). Nothing is deleted: the pending password stays a
    /// retrievable candidate until a verify proves which password works, and the account stays `unknown`.
    func abandon(_ id: String, by p: Principal, reason: String, ip: String) async throws -> TaskRecord {
        try authorizer.check(p, .manageSettings)
        let at = now()
        let task = try await store.abandon(id) { stored in
            guard stored.kind == .reset, stored.state == .unknown else {
                throw DomainError(.conflict, "not_abandonable",
                    "only a reset waiting in reconcile (state unknown) can be abandoned; this one is \(stored.state.rawValue)")
            }
            var t = stored
            t.end(.failed, code: "abandoned",
                message: "abandoned by \(p.username): \(reason); the candidate password stays retrievable until a verify settles it", at: at)
            return TaskWrite(task: t, sync: .unknown, audit: [AuditEvent(user: p.username, ip: ip, operation: "abandon_reset", reason: reason,
                message: "task \(t.id): reconcile abandoned; candidate kept", resourceId: t.resourceId, accountId: t.accountId)])
        }
        guard let task else { throw DomainError.notFound("task") }
        return task
    }

    /// A task its requester, or anyone who can read its account, may see.
    func task(_ id: String, by p: Principal) async throws -> NamedTask {
        guard let t = try await store.task(id, visibleTo: p, authorize: authorizer.on(p, .readAccount)) else { throw DomainError.notFound("task") }
        return t
    }

    /// Newest first: the caller's tasks, or (`mine` false) also those of the accounts it can see.
    func tasks(by p: Principal, mine: Bool, state: TaskRecord.State?, limit: Int = 200) async throws -> [NamedTask] {
        try await store.tasks(visibleTo: p, mine: mine, state: state, limit: limit)
    }

    func tasks(by p: Principal, mine: Bool, state: TaskRecord.State?, page: PageRequest) async throws -> Page<NamedTask> {
        try await store.tasks(visibleTo: p, mine: mine, state: state, page: page)
    }

    static func describe(_ error: any Error) -> String {
        (error as? DomainError)?.message ?? (error as? ResetFailure)?.message ?? (error as? VaultError)?.message ?? "\(type(of: error))"
    }
}
