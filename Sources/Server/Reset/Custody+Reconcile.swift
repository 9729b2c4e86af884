import Foundation
import GRDB
import Shared

/// Reconcile, commit and the end of a task.
extension Custody {
    /// The outcome is unknown: verify the pending and the current password on fresh connections and
    /// keep whichever works (ResetStateMachine.verdict). Neither works: out of sync, both kept as
    /// candidates. A verify that cannot tell: try again later, with back-off.
    func reconcile(_ task: TaskRecord, cause: ResetFailure?) async throws {
        var task = task
        task.phase = .reconcile
        try await store.write { [task] db in try task.update(db) }
        var c = try await context(task)
        let pending = try await store.read { [task] db in
            try task.pendingSecretId.flatMap { try secrets.pending(id: $0, account: task.accountId, db) }
        }
        var pendingResult: ResetFailure.Code?? = nil
        if let pending { pendingResult = .some(try await verifyResult(&c, pending, task)) }
        var currentResult: ResetFailure.Code? = .authenticationFailed
        if pendingResult != .some(nil) { currentResult = try await verifyResult(&c, c.current, task) }
        switch ResetStateMachine.verdict(pending: pendingResult, current: currentResult) {
        case .pendingWorks:
            try await commit(task, message: "reconciled: the new password works on the target")
        case .currentWorks:
            if task.pendingSecretId != nil { try await dropPending(&task) }
            try await finish(task, state: .failed, code: cause?.code.rawValue ?? ResetFailure.Code.outcomeUnknown.rawValue,
                message: "reconciled: the change did not happen, the current password still works" + (cause.map { " (\($0.message))" } ?? ""),
                sync: .inSync)
        case .neitherWorks:
            try await finish(task, state: .failed, code: ResetFailure.Code.outcomeUnknown.rawValue,
                message: "neither the new nor the current password works on the target; both are kept in the vault", sync: .outOfSync)
            try await auditTrail.append(AuditEvent(user: "system", ip: "local", operation: "out_of_sync", outcome: "failure",
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
        let retries = config.reconcileRetries
        let delay = t.reconcileAttempts < retries
            ? config.resetRetrySeconds * pow(2, Double(min(t.reconcileAttempts, 10))) : config.reconcileSlowSeconds
        t.notBefore = now().seconds + max(delay, 1)
        t.resultCode = ResetFailure.Code.outcomeUnknown.rawValue
        t.resultMessage = "reconcile waits: \(reason)"
        let alert = t.reconcileAttempts == retries
        try await store.write { [t] db in
            try t.update(db)
            try db.execute(sql: "UPDATE accounts SET syncStatus = 'unknown' WHERE id = ?", arguments: [t.accountId])
            guard alert else { return }
            try AuditLog.append(AuditEvent(user: "system", ip: "server", operation: "reconcile_unresolved", outcome: "failure",
                message: "task \(t.id): after \(retries) tries it is not known which password works: \(reason); the candidates stay retrievable",
                resourceId: t.resourceId, accountId: t.accountId), in: db)
            var f = try accountFacts(.resetFailed, resourceId: t.resourceId, accountId: t.accountId, db)
            (f.user, f.status, f.reason) = (t.requestedBy, "unknown", t.reason)
            f.message = "Unresolved: which password works is not known yet (\(reason)). The candidate passwords stay retrievable."
            try notify(f, accounts: [t.accountId], db)
        }
    }

    /// Pending becomes current, in one transaction with the task, the account and the audit.
    func commit(_ task: TaskRecord, message: String) async throws {
        var task = task
        let at = now()
        let keep = try await store.read { [task] db in
            try ResourceRecord.fetchOne(db, key: task.resourceId).map { try Catalog.effectivePolicy(for: $0, db).historyDepth } ?? 0
        }
        try await store.write { [task] db in
            var t = task
            if let sid = t.pendingSecretId {
                let old = try secrets.current(account: t.accountId, db)
                let new = try secrets.pending(id: sid, account: t.accountId, db)
                try secrets.promotePending(id: sid, account: t.accountId, keep: keep, db)
                if let new, let r = try ResourceRecord.fetchOne(db, key: t.resourceId), let a = try AccountRecord.fetchOne(db, key: t.accountId) {
                    try queueListeners(r, a, old: old, new: new, trigger: "remote reset by \(t.requestedBy), task \(t.id)", db)
                }
            }
            try db.execute(sql: "UPDATE accounts SET syncStatus = 'inSync', lastChangedAt = ?, lastVerifiedAt = ? WHERE id = ?",
                arguments: [at.seconds, at.seconds, t.accountId])
            // The new password just verified: candidates an earlier unresolved reset left are settled.
            for stale in try secrets.candidates(account: t.accountId, db) where !stale.active && stale.id != t.pendingSecretId {
                try secrets.discardPending(id: stale.id, db)
            }
            t.pendingSecretId = nil
            t.end(.succeeded, code: "ok", message: message, at: at)
            try t.update(db)
            try AuditLog.append(AuditEvent(user: t.requestedBy, ip: "server", operation: "change_password", resource: nil, account: nil,
                reason: t.reason, ticketId: t.ticketId, message: "remote reset, task \(t.id): \(message)", resourceId: t.resourceId,
                accountId: t.accountId), in: db)
            try clearOutOfSync(t.accountId, db)
            var f = try accountFacts(.passwordChanged, resourceId: t.resourceId, accountId: t.accountId, db)
            (f.user, f.reason, f.message) = (t.requestedBy, t.reason, "Changed on the target (task \(t.id)).")
            try notify(f, accounts: [t.accountId], db)
        }
        task.state = .succeeded
    }

    func finish(_ task: TaskRecord, state: TaskRecord.State, code: String, message: String, sync: SyncStatus? = nil,
        checkSuperseded: Bool = true) async throws
    {
        let at = now()
        try await store.write { [task] db in
            var t = task
            var sync = sync
            var message = message
            if sync != nil, checkSuperseded, try superseded(t, db) {
                sync = nil
                message += " (not applied: a reset changed or is changing this password)"
            }
            t.end(state, code: code, message: message, at: at)
            try t.update(db)
            if let sync {
                try db.execute(sql: "UPDATE accounts SET syncStatus = ?, lastVerifiedAt = ? WHERE id = ?",
                    arguments: [sync.rawValue, at.seconds, t.accountId])
            }
            try AuditLog.append(AuditEvent(user: t.requestedBy, ip: "server", operation: t.kind == .reset ? "remote_reset" : "verify",
                outcome: state == .succeeded ? "success" : "failure", reason: t.reason, ticketId: t.ticketId,
                message: "task \(t.id): \(code): \(message)", resourceId: t.resourceId, accountId: t.accountId), in: db)
            if t.kind == .reset && state != .succeeded {
                var f = try accountFacts(.resetFailed, resourceId: t.resourceId, accountId: t.accountId, db)
                (f.user, f.status, f.reason, f.message) = (t.requestedBy, "failure", t.reason, "\(code): \(message)")
                try notify(f, accounts: [t.accountId], db)
            }
            switch sync {
            case .outOfSync?: try notifyOutOfSync(resourceId: t.resourceId, accountId: t.accountId, message: "\(code): \(message)", db)
            case .inSync?: try clearOutOfSync(t.accountId, db)
            default: break
            }
        }
    }

    func auditAttempt(_ task: TaskRecord, _ c: Context, outcome: String, message: String) async throws {
        try await auditTrail.append(AuditEvent(user: task.requestedBy, ip: "server", operation: "reset_attempt", outcome: outcome,
            resource: c.target.resource.name, account: c.target.account.loginName, message: "task \(task.id) attempt \(task.attempts): \(message)",
            resourceId: task.resourceId, accountId: task.accountId))
    }

    /// nil when `password` logs in; otherwise the failure's code. A test's fault hook may fail it.
    /// A host key seen on this first contact is pinned, and `c` checks it from then on.
    /// Throws `ResetStopped` when the verify was cancelled: its answer says nothing.
    func verifyResult(_ c: inout Context, _ password: Secret?, _ task: TaskRecord? = nil) async throws(ResetStopped) -> ResetFailure.Code? {
        let seen = ResetExposure()
        var j = job(c, operation: .verify, current: password, new: nil)
        j.exposure = seen
        var code: ResetFailure.Code?
        do throws(ResetFailure) {
            try task.flatMap { faults.transport($0) }?.fault(at: ResetFaultPoint.verify)
            try await c.target.plugin.verify(j)
        } catch { code = error.code }
        await learned(seen.hostKey, &c)
        try ResetStopped.check()
        return code
    }

    /// Pins a host key learned on first contact and checks it from then on.
    func learned(_ key: String?, _ c: inout Context) async {
        guard let key, c.target.config.hostKey == nil else { return }
        do { try await pinHostKey(key, c) } catch { logger.error("cannot pin the host key", metadata: ["resource": "\(c.target.resource.id)"]) }
        c = c.pinned(key)
    }

    /// Trust on first use: the first host key seen, on any contact (a verify too), is pinned in the
    /// stored reset config, unless one was pinned meanwhile (the stored config is read again).
    func pinHostKey(_ key: String, _ c: Context) async throws {
        guard c.target.config.hostKey == nil else { return }
        try await store.write { db in
            guard var config = try ResetConfig.stored(for: c.target.resource.id, db), config.hostKey == nil else { return }
            config.hostKey = key
            let json = String(decoding: try JSONEncoder.api.encode(config), as: UTF8.self)
            try db.execute(sql: "UPDATE resetConfigs SET json = ? WHERE resourceId = ?", arguments: [json, c.target.resource.id])
            try AuditLog.append(AuditEvent(user: "system", ip: "server", operation: "pin_host_key", resource: c.target.resource.name,
                message: "trusted on first use: \(key)", resourceId: c.target.resource.id), in: db)
        }
    }
}

extension Custody.Context {
    /// The same context with `key` pinned, so the task's later connections check it.
    func pinned(_ key: String) -> Custody.Context {
        var config = target.config
        config.hostKey = key
        let t = Custody.ResetTarget(resource: target.resource, account: target.account, config: config, plugin: target.plugin)
        return Custody.Context(target: t, current: current, login: login, root: root, policy: policy)
    }
}
