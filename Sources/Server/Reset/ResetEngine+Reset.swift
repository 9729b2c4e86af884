import Foundation
import ServiceLifecycle
import Shared

/// A reset's change: write-ahead, change, verify, then commit or reconcile.
extension ResetEngine {
    func runReset(_ task: TaskRecord) async throws {
        var task = task
        var c = try await context(task)
        var generator = PasswordGenerator()
        generator.specials = Array(c.target.plugin.descriptor.constraints.generatorSpecials)
        var policy = c.policy
        policy.maxLength = min(policy.maxLength, c.target.plugin.descriptor.constraints.maxLength)
        while true {
            task.attempts += 1
            // Write-ahead: the new password is sealed as pending before the target is touched.
            let new: Secret
            if let sid = task.pendingSecretId, let given = try await store.pending(sid, account: task.accountId) {
                new = given
            } else {
                new = try generator.generate(for: policy, loginName: c.target.account.loginName)
                let sid = newID()
                task.pendingSecretId = sid
                try await store.writePending(new, id: sid, account: task.accountId, by: task.requestedBy, at: now(), task: task.id)
            }
            task.phase = .changing
            try await store.save(TaskWrite(task: task))
            if faults.crashAt(task, .afterPending) { return }
            let exposure = ResetExposure(faults: faults.transport(task))
            var resetJob = job(c, operation: .reset, current: c.current, new: new)
            resetJob.exposure = exposure
            let event: ResetStateMachine.Event
            var report = ResetReport()
            do throws(ResetFailure) {
                report = try await c.target.plugin.reset(resetJob)
                event = .changed
            } catch { event = .changeFailed(error, reached: exposure.reached) }
            // The first host key seen is pinned whatever the answer, and checked by the verify below.
            await learned(report.learnedHostKey ?? exposure.hostKey, &c, task: task.id)
            try ResetStopped.check()
            let (phase, action) = machine.next(task.phase, event, attempts: task.attempts, passwordGiven: task.newPasswordGiven)
            switch action {
            case .verify: break
            case .retry(let f, let regenerate, let later):
                try await auditAttempt(task, c, outcome: "failure", message: f.description)
                if regenerate { try await dropPending(&task) }
                guard later else { continue }
                task.state = .queued
                task.phase = phase
                task.notBefore = now().seconds + settings.retrySeconds * pow(2, Double(task.attempts - 1))
                task.resultCode = f.code.rawValue
                task.resultMessage = "retrying: \(f.message)"
                try await store.save(TaskWrite(task: task))
                return
            case .fail(let f):
                try await auditAttempt(task, c, outcome: "failure", message: f.description)
                try await dropPending(&task)
                try await finish(task, state: .failed, code: f.code.rawValue, message: f.message, sync: syncStatus(after: f, c))
                return
            case .reconcile(let f):
                try await auditAttempt(task, c, outcome: "failure", message: f.description)
                try await reconcile(task, cause: f)
                return
            case .send, .commit: throw DomainError.invalid("internal", "unexpected reset step \(action)")
            }
            if faults.crashAt(task, .afterChange) { return }
            task.phase = phase
            try await store.save(TaskWrite(task: task))
            let verified = try await verifyResult(&c, new, task)
            if faults.crashAt(task, .afterVerify) { return }
            switch machine.next(task.phase, .verified(verified), attempts: task.attempts, passwordGiven: task.newPasswordGiven).1 {
            case .commit: try await commit(task, message: report.message)
            case .reconcile(let f): try await reconcile(task, cause: f)
            default: throw DomainError.invalid("internal", "unexpected verify step")
            }
            return
        }
    }

    /// Saved with the task as it is, so a run that no longer holds its task audits nothing.
    func auditAttempt(_ task: TaskRecord, _ c: Context, outcome: String, message: String) async throws {
        try await store.save(TaskWrite(task: task, audit: [AuditEvent(user: task.requestedBy, ip: "server", operation: "reset_attempt", outcome: outcome,
            resource: c.target.resource.name, account: c.target.account.loginName, message: "task \(task.id) attempt \(task.attempts): \(message)",
            resourceId: task.resourceId, accountId: task.accountId)]))
    }

    /// Marks due tasks running (see `TaskStore.claim`); an idle engine does not take the writer.
    func claim(limit: Int, agentLimit: Int = 0, busyHosts: [String: Int], token: String? = nil) async throws -> [TaskRecord] {
        guard limit > 0 || agentLimit > 0 else { return [] }
        let at = now()
        let request = ClaimRequest(at: at, limit: limit, agentLimit: agentLimit, perHost: settings.perHostLimit, busyHosts: busyHosts,
            excluding: held.running, token: token)
        guard try await store.anyClaimable(request) else { return [] }
        return try await store.claim(request,
            windowClosed: { stored in
                // A rotation's allowed hours closed before it started: cancelled and reported, never started outside them.
                var t = stored
                t.end(.cancelled, code: "windowClosed", message: "the rotation's allowed hours ended before this reset started", at: at)
                var f = NotificationFacts(.resetFailed)
                (f.user, f.status, f.reason, f.message) = (t.requestedBy, "failure", t.reason, "windowClosed: \(t.resultMessage ?? "")")
                return TaskWrite(task: t,
                    audit: [AuditEvent(user: t.requestedBy, ip: "server", operation: "remote_reset", outcome: "failure",
                        message: "task \(t.id): windowClosed", resourceId: t.resourceId, accountId: t.accountId)],
                    notices: [.account(f, resourceId: t.resourceId, accountId: t.accountId)])
            },
            supersededVerify: { stored in
                var t = stored
                t.end(.cancelled, code: "resetInProgress", message: "a reset of this account is under way; its own verify settles the account", at: at)
                return TaskWrite(task: t)
            })
    }

    /// At start: a task cut short before touching the target goes back to the queue; one that may
    /// have touched it is reconciled. Returns how many go to reconcile.
    func recoverInterrupted() async throws -> Int {
        try await store.recover(recovery).filter { $0.kind == .reset && $0.state == .unknown }.count
    }

    /// While running, with several nodes: the tasks of a node that stopped renewing its lease,
    /// recovered as a start recovers its own. Returns how many.
    func recoverLapsed() async throws -> Int {
        try await store.recoverLapsed(held: held.all, recovery).count
    }

    /// The result code of a reset whose run may still be alive (`TaskRecord.takenOverCode`).
    static let takenOver = TaskRecord.takenOverCode
    /// A verify of an account whose password is not known yet.
    static let passwordUnknown = "passwordUnknown"

    /// Several nodes: a task whose last write failed (the database away) stays `running` under this
    /// node; once the store answers again, it is recovered as a start would recover it, so it is
    /// reconciled soon rather than at the node's next start: after `resetRetrySeconds`.
    func settle(_ id: String) async {
        var delay = Duration.seconds(1)
        // A run that gave up its hold leaves the task to whichever node takes it back.
        while !Task.isCancelled && !Task.isShuttingDownGracefully && RunningTask.current?.abandoned != true {
            do {
                guard try await store.task(id)?.state == .running else { return }  // a read: the usual case costs no write
                // Not at once: a statement that breaks its connection every time is not retried every second.
                let recovery = self.recovery
                let after = now().seconds + settings.retrySeconds
                if let t = try await store.recoverHeld(id, { stored in
                    var t = recovery(stored)
                    t.notBefore = max(t.notBefore, after)
                    return t
                }) {
                    logger.notice("recovered a task whose last write failed", metadata: ["task": "\(t.id)", "state": "\(t.state.rawValue)"])
                } else {
                    logger.debug("a task whose run ended is running under another node", metadata: ["task": "\(id)"])
                }
                return
            } catch {
                logger.warning("a task whose run ended waits for the database", metadata: ["task": "\(id)", "error": "\(type(of: error))"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(15))
            }
        }
    }

    private var recovery: @Sendable (TaskRecord) -> TaskRecord {
        let machine = self.machine
        return { stored in
            var t = stored
            guard t.kind == .reset else {
                t.state = .queued
                return t
            }
            let (phase, action) = machine.next(t.phase, .interrupted, attempts: t.attempts, passwordGiven: t.newPasswordGiven)
            t.phase = phase
            if case .reconcile = action {
                t.state = .unknown
                t.notBefore = 0
            } else {
                t.state = .queued
            }
            return t
        }
    }
}
