import Foundation
import GRDB
import Shared

/// Running one task: the life of a reset (DESIGN §3). The vault always keeps a password that
/// works: the new one is written as pending first, committed only once it is verified, and a
/// lost answer is reconciled by trying both.
extension Custody {
    struct Context: Sendable {
        let target: ResetTarget
        let current: Secret?
        let login: ResetJob.Credential?
        let root: ResetJob.Credential?
        let policy: PasswordPolicy
    }

    var machine: ResetStateMachine { ResetStateMachine(maxAttempts: config.resetMaxAttempts) }

    func execute(_ task: TaskRecord) async {
        do {
            switch (task.kind, task.phase) {
            case (.verify, _): try await runVerify(task)
            case (.reset, .reconcile), (.reset, .changing), (.reset, .verifying): try await reconcile(task, cause: nil)
            case (.reset, _): try await runReset(task)
            }
        } catch where error is ResetStopped || error is CancellationError {
            // GRDB refuses the writes of a cancelled task too: nothing is half recorded.
            logger.notice("task left for recovery at the next start: the server is stopping", metadata: ["task": "\(task.id)"])
        } catch {
            logger.error("task failed internally", metadata: ["task": "\(task.id)", "error": "\(type(of: error))"])
            var task = (try? await store.read { db in try TaskRecord.fetchOne(db, key: task.id) }) ?? task
            let failure = ResetFailure(.protocolError, "the task could not run: \(Self.describe(error))")
            guard task.kind == .reset else {
                try? await finish(task, state: .failed, code: "internalError", message: failure.message)
                return
            }
            switch machine.next(task.phase, .setupFailed(failure), attempts: task.attempts, passwordGiven: task.newPasswordGiven).1 {
            case .fail:
                // Nothing touched the target: the pending password (a given one) goes, the task fails.
                try? await dropPending(&task)
                try? await finish(task, state: .failed, code: "internalError", message: failure.message)
            default:
                // A change may be live on the target: never drop the pending password; reconcile later.
                try? await reconcileLater(task, because: Self.describe(error))
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        (error as? DomainError)?.message ?? (error as? ResetFailure)?.message ?? (error as? VaultError)?.message ?? "\(type(of: error))"
    }

    func context(_ task: TaskRecord) async throws -> Context {
        try await store.read { db in
            guard let r = try ResourceRecord.fetchOne(db, key: task.resourceId), let a = try AccountRecord.fetchOne(db, key: task.accountId)
            else { throw DomainError.notFound("account") }
            let target = try resetTarget(r, a, db)
            func credential(_ ref: String?) throws -> ResetJob.Credential? {
                guard let ref else { return nil }
                let acc = try Catalog.accountRef(ref, on: r, db)
                let secret = try secrets.current(account: acc.id, db)
                if secret?.reveal().hasPrefix("-----BEGIN ") == true {
                    return ResetJob.Credential(loginName: acc.loginName, password: nil, privateKey: secret)
                }
                return ResetJob.Credential(loginName: acc.loginName, password: secret)
            }
            return Context(target: target, current: try secrets.current(account: a.id, db), login: try credential(target.config.loginAccount),
                root: try credential(target.config.enableAccount ?? target.config.rootAccount), policy: try Catalog.effectivePolicy(for: r, db))
        }
    }

    func job(_ c: Context, operation: ResetJob.Operation, current: Secret?, new: Secret?) -> ResetJob {
        var settings = c.target.config.settings
        if c.target.config.port == nil, let port = c.target.plugin.defaultPort(settings) { settings.port = port }
        let (resource, account) = Self.properties(c.target.resource, c.target.account, port: settings.port)
        if c.login?.privateKey != nil { settings.authMethod = .publicKey }
        return ResetJob(operation: operation, resource: resource, account: account, currentPassword: current, newPassword: new,
            loginAccount: c.login, rootAccount: c.root, settings: settings)
    }

    /// PMP's resource and account properties (the custom listener's keys), custom fields included.
    static func properties(_ r: ResourceRecord, _ a: AccountRecord, port: Int?) -> (resource: [String: String], account: [String: String]) {
        var resource = r.customFields
        resource["RESOURCENAME"] = r.name
        resource["IPADDRESS"] = r.dnsName
        resource["RESOURCEURL"] = r.url ?? ""
        resource["RESOURCEDESC"] = r.description ?? ""
        resource["LOCATION"] = r.location ?? ""
        resource["DEPARTMENT"] = r.department ?? ""
        if let port { resource["SSHPORT"] = String(port) }
        var account = a.customFields
        account["LOGINNAME"] = a.loginName
        account["DESCRIPTION"] = a.description ?? ""
        return (resource, account)
    }

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
            let accountID = task.accountId
            if let sid = task.pendingSecretId, let given = try await store.read({ db in try secrets.pending(id: sid, account: accountID, db) }) {
                new = given
            } else {
                new = try generator.generate(for: policy, loginName: c.target.account.loginName)
                let sid = newID()
                task.pendingSecretId = sid
                try await store.write { [task] db in try secrets.writePending(new, id: sid, account: task.accountId, by: task.requestedBy, at: now(), db) }
            }
            task.phase = .changing
            try await store.write { [task] db in try task.update(db) }
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
            await learned(report.learnedHostKey ?? exposure.hostKey, &c)
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
                task.notBefore = now().seconds + config.resetRetrySeconds * pow(2, Double(task.attempts - 1))
                task.resultCode = f.code.rawValue
                task.resultMessage = "retrying: \(f.message)"
                try await store.write { [task] db in try task.update(db) }
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
            try await store.write { [task] db in try task.update(db) }
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

    /// Which sync status a definite failure says: a wrong stored password is out of sync, a
    /// missing network is unreachable; the rest say nothing about the password.
    func syncStatus(after error: ResetFailure, _ c: Context) -> SyncStatus? {
        switch error.code {
        case .authenticationFailed where c.login == nil || c.login?.loginName == c.target.account.loginName: .outOfSync
        case .unreachable: .unreachable
        default: nil
        }
    }

    func dropPending(_ task: inout TaskRecord) async throws {
        guard let sid = task.pendingSecretId else { return }
        try await store.write { db in try secrets.discardPending(id: sid, db) }
        task.pendingSecretId = nil
    }
}
