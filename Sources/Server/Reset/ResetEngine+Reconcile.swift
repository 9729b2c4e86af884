import Foundation
import Shared

/// Reconcile, commit and the end of a task.
extension ResetEngine {
    /// The outcome is unknown: verify the pending and the current password on fresh connections and
    /// keep whichever works (ResetStateMachine.verdict). Neither works: out of sync, both kept as
    /// candidates. A verify that cannot tell: try again later, with back-off.
    func reconcile(_ task: TaskRecord, cause: ResetFailure?) async throws {
        var task = task
        task.phase = .reconcile
        try await store.save(TaskWrite(task: task))
        var c = try await context(task)
        var pending: Secret?
        if let sid = task.pendingSecretId { pending = try await store.pending(sid, account: task.accountId) }
        var pendingResult: ResetFailure.Code?? = nil
        if let pending { pendingResult = .some(try await verifyResult(&c, pending, task)) }
        var currentResult: ResetFailure.Code? = .authenticationFailed
        // No earlier password known: it cannot work, and is not tried.
        if pendingResult != .some(nil), c.current != nil { currentResult = try await verifyResult(&c, c.current, task) }
        switch ResetStateMachine.verdict(pending: pendingResult, current: currentResult) {
        case .pendingWorks:
            try await commit(task, message: "reconciled: the new password works on the target")
        case .currentWorks where task.resultCode == Self.takenOver && task.pendingSecretId != nil:
            // The node that ran the change stopped renewing its lease but may still be alive and send
            // the new password late: it stays a candidate, and the next verify settles it (the current
            // password working drops it; the candidate working makes it current).
            // Not `inSync`: which password the target will hold is not settled until that verify.
            try await finish(task, state: .failed, code: Self.takenOver,
                message: "reconciled: the current password still works; the new one stays a candidate until the next verify, "
                    + "because the node that ran the change stopped answering and could still send it", sync: .unknown)
        case .currentWorks:
            if task.pendingSecretId != nil { try await dropPending(&task) }
            try await finish(task, state: .failed, code: cause?.code.rawValue ?? ResetFailure.Code.outcomeUnknown.rawValue,
                message: "reconciled: the change did not happen, the current password still works" + (cause.map { " (\($0.message))" } ?? ""),
                sync: .inSync)
        case .neitherWorks:
            try await finish(task, state: .failed, code: ResetFailure.Code.outcomeUnknown.rawValue,
                message: c.current == nil
                    ? (pending == nil ? "no new password and no earlier one is known" : "the new password does not work on the target and no earlier one is known; it is kept as a candidate")
                    : "neither the new nor the current password works on the target; both are kept in the vault", sync: .outOfSync)
            try await audit.append(AuditEvent(user: "system", ip: "local", operation: "out_of_sync", outcome: "failure",
                resource: c.target.resource.name, account: c.target.account.loginName, message: "task \(task.id): neither password works",
                resourceId: task.resourceId, accountId: task.accountId))
        case .cannotTell:
            let why = [pendingResult.flatMap { $0 }, currentResult].compactMap { $0?.rawValue }.joined(separator: ", ")
            try await reconcileLater(task, because: "the target could not tell which password works (\(why))")
        }
    }

    /// Reconcile waits: bounded back-off, then (after `reconcileRetries`) the account is `unknown`,
    /// an alert goes out once, and reconcile goes on at `reconcileSlowSeconds`.
    func reconcileLater(_ task: TaskRecord, because reason: String) async throws {
        var t = task
        t.state = .unknown
        t.phase = .reconcile
        t.reconcileAttempts += 1
        let retries = settings.reconcileRetries
        let delay = t.reconcileAttempts < retries
            ? settings.retrySeconds * pow(2, Double(min(t.reconcileAttempts, 10))) : settings.reconcileSlowSeconds
        t.notBefore = now().seconds + max(delay, 1)
        // A take-over stays known (see `reconcile`).
        t.resultCode = task.resultCode == Self.takenOver ? Self.takenOver : ResetFailure.Code.outcomeUnknown.rawValue
        t.resultMessage = "reconcile waits: \(reason)"
        var write = TaskWrite(task: t, sync: .unknown)
        if t.reconcileAttempts == retries {
            write.audit = [AuditEvent(user: "system", ip: "server", operation: "reconcile_unresolved", outcome: "failure",
                message: "task \(t.id): after \(retries) tries it is not known which password works: \(reason); the candidates stay retrievable",
                resourceId: t.resourceId, accountId: t.accountId)]
            var f = NotificationFacts(.resetFailed)
            (f.user, f.status, f.reason) = (t.requestedBy, "unknown", t.reason)
            f.message = "Unresolved: which password works is not known yet (\(reason)). The candidate passwords stay retrievable."
            write.notices = [.account(f, resourceId: t.resourceId, accountId: t.accountId)]
        }
        try await store.save(write)
    }

    /// Pending becomes current, in one transaction with the task, the account and the audit.
    func commit(_ task: TaskRecord, message: String) async throws {
        let at = now()
        var t = task
        t.end(.succeeded, code: "ok", message: message, at: at)
        var f = NotificationFacts(.passwordChanged)
        (f.user, f.reason, f.message) = (t.requestedBy, t.reason, "Changed on the target (task \(t.id)).")
        let write = TaskWrite(task: t,
            audit: [AuditEvent(user: t.requestedBy, ip: "server", operation: "change_password", resource: nil, account: nil, reason: t.reason,
                ticketId: t.ticketId, message: "remote reset, task \(t.id): \(message)", resourceId: t.resourceId, accountId: t.accountId)],
            notices: [.account(f, resourceId: t.resourceId, accountId: t.accountId)], clearMarks: [Notice.outOfSyncMark(t.accountId)])
        try await store.commit(write, at: at, listenerTrigger: "remote reset by \(t.requestedBy), task \(t.id)")
    }

    /// Ends the task. A verify's `sync` is not applied when a reset superseded it (`checkSuperseded`).
    func finish(_ task: TaskRecord, state: TaskRecord.State, code: String, message: String, sync: SyncStatus? = nil,
        checkSuperseded: Bool = true) async throws
    {
        let at = now()
        try await store.finish(task) { stored, superseded in
            var t = stored
            var sync = sync
            var message = message
            if sync != nil, checkSuperseded, superseded {
                sync = nil
                message += " (not applied: a reset changed or is changing this password)"
            }
            t.end(state, code: code, message: message, at: at)
            var write = TaskWrite(task: t, sync: sync, verifiedAt: sync == nil ? nil : at,
                audit: [AuditEvent(user: t.requestedBy, ip: "server", operation: t.kind == .reset ? "remote_reset" : "verify",
                    outcome: state == .succeeded ? "success" : "failure", reason: t.reason, ticketId: t.ticketId,
                    message: "task \(t.id): \(code): \(message)", resourceId: t.resourceId, accountId: t.accountId)])
            if t.kind == .reset && state != .succeeded {
                var f = NotificationFacts(.resetFailed)
                (f.user, f.status, f.reason, f.message) = (t.requestedBy, "failure", t.reason, "\(code): \(message)")
                write.notices.append(.account(f, resourceId: t.resourceId, accountId: t.accountId))
            }
            switch sync {
            case .outOfSync?: write.notices.append(.outOfSync(resourceId: t.resourceId, accountId: t.accountId, message: "\(code): \(message)"))
            case .inSync?: write.clearMarks.append(Notice.outOfSyncMark(t.accountId))
            default: break
            }
            return write
        }
    }
}
