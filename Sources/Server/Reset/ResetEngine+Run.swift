import Foundation
import Shared

/// Running one task: claiming it, building its job, the change and its verify.
extension ResetEngine {
    struct Context: Sendable {
        var target: ResetTarget
        let current: Secret?
        let login: ResetJob.Credential?
        let root: ResetJob.Credential?
        let policy: PasswordPolicy

        /// The same context with `key` pinned, so the task's later connections check it.
        func pinned(_ key: String) -> Context {
            var c = self
            c.target = target.pinned(key)
            return c
        }
    }

    func execute(_ task: TaskRecord) async {
        do {
            switch (task.kind, task.phase) {
            case (.verify, _): try await runVerify(task)
            case (.reset, .reconcile), (.reset, .changing), (.reset, .verifying): try await reconcile(task, cause: nil)
            case (.reset, _): try await runReset(task)
            }
        } catch where error is ResetStopped || error is CancellationError {
            // The store refuses the writes of a cancelled (or given-up) run too: nothing is half recorded.
            logger.notice("task left for recovery: the server is stopping, or the run gave up its hold", metadata: ["task": "\(task.id)"])
        } catch let error as StoreUnavailable {
            // Nothing written: the task stays running under this node, and the run's settle (or the
            // lease) recovers it once the database answers, as a start would: queued again, or
            // reconciled if the change may have been sent. It resumes rather than failing.
            logger.warning("task left for recovery: the database cannot be reached", metadata: ["task": "\(task.id)", "error": "\(error.message)"])
        } catch let error as StoreError where error.code == .takenOver {
            // The task is no longer this run's (taken over): whoever holds it decides.
            logger.notice("task left to the node that took it over", metadata: ["task": "\(task.id)", "error": "\(error.message)"])
        } catch where RunningTask.current?.abandoned == true {
            logger.notice("task left for recovery: the run gave up its hold", metadata: ["task": "\(task.id)"])
        } catch {
            logger.error("task failed internally", metadata: ["task": "\(task.id)", "error": "\(type(of: error))"])
            // Decided on the stored task only: the claimed copy may be behind (a change sent since).
            guard var task = try? await store.task(task.id) else {
                logger.warning("task left for recovery: it cannot be read back", metadata: ["task": "\(task.id)"])
                return
            }
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

    func context(_ task: TaskRecord) async throws -> Context {
        let facts = try await store.run(resourceID: task.resourceId, accountID: task.accountId) { config in
            [config?.loginAccount, config?.enableAccount ?? config?.rootAccount].compactMap { $0 }
        }
        let target = try targets.resolve(facts.target)
        func credential(_ ref: String?) -> ResetJob.Credential? {
            guard let ref, let named = facts.named[ref] else { return nil }
            if named.secret?.reveal().hasPrefix("-----BEGIN ") == true {
                return ResetJob.Credential(loginName: named.loginName, password: nil, privateKey: named.secret)
            }
            return ResetJob.Credential(loginName: named.loginName, password: named.secret)
        }
        return Context(target: target, current: facts.current, login: credential(target.config.loginAccount),
            root: credential(target.config.enableAccount ?? target.config.rootAccount), policy: facts.policy)
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
        await learned(seen.hostKey, &c, task: task?.id ?? RunningTask.current?.id)
        try ResetStopped.check()
        return code
    }

    /// Trust on first use: the first host key seen, on any contact (a verify too), is pinned in the
    /// stored reset config (unless one was pinned meanwhile) and checked from then on.
    func learned(_ key: String?, _ c: inout Context, task: String?) async {
        guard let key, c.target.config.hostKey == nil else { return }
        do {
            _ = try await store.pinHostKey(key, resourceID: c.target.resource.id, task: task) { r in
                AuditEvent(user: "system", ip: "server", operation: "pin_host_key", resource: r.name, message: "trusted on first use: \(key)",
                    resourceId: r.id)
            }
        } catch { logger.error("cannot pin the host key", metadata: ["resource": "\(c.target.resource.id)"]) }
        c = c.pinned(key)
    }

    func dropPending(_ task: inout TaskRecord) async throws {
        guard let sid = task.pendingSecretId else { return }
        // A run that gave up its hold deletes nothing: another run may be deciding with it.
        if RunningTask.current?.abandoned == true { throw ResetStopped() }
        try await store.dropPending(sid, task: task.id)
        task.pendingSecretId = nil
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
}
